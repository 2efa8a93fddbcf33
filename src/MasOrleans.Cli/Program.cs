using MasOrleans.Cli;

// Exit codes (README.md, "Exit codes") and error lines come from one place.
return await UserErrors.InvokeAsync(MasVerbs.CreateRoot(), args);
