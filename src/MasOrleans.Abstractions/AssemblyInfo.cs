namespace MasOrleans.Abstractions;
