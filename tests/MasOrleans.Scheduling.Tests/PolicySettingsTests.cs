using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Scheduling.Tests;

/// <summary>Settings (`mas replay --set key=value`) that no chosen policy reads are refused, not silently ignored.</summary>
public class PolicySettingsTests
{
    private static readonly PolicyCatalog Catalog = PolicyCatalog.CreateDefault();

    private static PolicyOptions With(params (string Key, string Value)[] settings) =>
        new() { Settings = settings.ToDictionary(s => s.Key, s => s.Value, StringComparer.Ordinal) };

    [Fact]
    public void A_setting_some_chosen_policy_reads_passes()
    {
        // gpusel is the paper baselines' device rule (PaperPolicies); balancedAllocation is kube's (KubePolicies).
        Catalog.CheckSettings(["best-fit"], With(("gpusel", "worst")));
        Catalog.CheckSettings(["kube", "best-fit"], With(("gpusel", "worst"), ("balancedAllocation", "change")));
        Catalog.CheckSettings(["kube"], With());
    }

    [Fact]
    public void A_setting_no_chosen_policy_reads_is_named_in_the_error()
    {
        var typo = Assert.Throws<UserArgumentException>(() => Catalog.CheckSettings(["best-fit", "kube"], With(("gpusell", "worst"), ("gpusel", "best"))));
        Assert.Equal("no policy among best-fit, kube reads the setting 'gpusell': misspelt, or meant for another policy", typo.Message);
        // Read by a policy that is not in this run: refused too.
        var elsewhere = Assert.Throws<UserArgumentException>(() => Catalog.CheckSettings(["kube"], With(("gpusel", "worst"), ("zz", "1"))));
        Assert.Contains("the settings 'gpusel', 'zz'", elsewhere.Message);
    }

    [Fact]
    public void Recording_counts_lookups_and_enumeration_as_reads()
    {
        var settings = new RecordingSettings(new Dictionary<string, string> { ["a"] = "1", ["b"] = "2", ["c"] = "3" });
        Assert.True(settings.TryGetValue("a", out _));
        Assert.False(settings.ContainsKey("missing"));
        Assert.Equal(["a", "missing"], settings.Asked.Order(StringComparer.Ordinal));
        _ = settings.ToList();
        Assert.Equal(["a", "b", "c", "missing"], settings.Asked.Order(StringComparer.Ordinal));
    }
}
