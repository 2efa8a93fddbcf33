using System.Net;
using System.Reflection;
using System.Runtime.CompilerServices;
using MasOrleans.Grains.Nodes;
using Orleans.Runtime;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// <see cref="SiloStopping.ShuttingDownSibling"/> reads the silo out of Orleans' refusal as it stops, written as Orleans
/// 10.4.2 writes it (src/Orleans.Runtime/Placement/PlacementService.cs: <c>$"Silo '{LocalSilo}' is shutting down."</c>,
/// the address by SiloAddress.ToString). The first test asks Orleans itself for that exception, so a change of its words
/// or of the method fails here; the others build messages the same way from real addresses.
/// </summary>
public sealed class SiloShuttingDownWordsTests
{
    private static readonly SiloAddress Here = SiloAddress.New(IPAddress.Loopback, 11111, 1);

    private static SiloUnavailableException ShuttingDown(SiloAddress silo) => new($"Silo '{silo}' is shutting down.");

    /// <summary>
    /// Orleans' own refusal, made by PlacementService.CreateStoppingException (internal, so by reflection) for a placement
    /// service whose LocalSilo is a sibling's address; no silo is started, and none of the service's other state is read.
    /// </summary>
    [Fact]
    public void Orleans_own_refusal_names_the_stopping_sibling()
    {
        var sibling = SiloAddress.New(IPAddress.Parse("10.1.2.3"), 11112, 123456789);
        var refusal = OrleansStoppingException(sibling);

        Assert.IsType<SiloUnavailableException>(refusal);
        Assert.Equal(sibling, SiloStopping.ShuttingDownSibling(refusal, Here));
        Assert.Null(SiloStopping.ShuttingDownSibling(OrleansStoppingException(Here), Here));
    }

    private static Exception OrleansStoppingException(SiloAddress localSilo)
    {
        const BindingFlags Any = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;
        var placement = Type.GetType("Orleans.Runtime.Placement.PlacementService, Orleans.Runtime", throwOnError: true)!;
        var create = placement.GetMethod("CreateStoppingException", Any)
            ?? throw new InvalidOperationException("Orleans' PlacementService has no CreateStoppingException: see how it refuses messages as it stops");
        object? target = null;
        if (!create.IsStatic)
        {
            target = RuntimeHelpers.GetUninitializedObject(placement);
            var localSiloField = placement.GetField("<LocalSilo>k__BackingField", Any)
                ?? throw new InvalidOperationException("Orleans' PlacementService keeps LocalSilo elsewhere");
            localSiloField.SetValue(target, localSilo);
        }
        var arguments = create.GetParameters()
            .Select(p => p.ParameterType == typeof(SiloAddress) ? localSilo
                : throw new InvalidOperationException($"CreateStoppingException takes a {p.ParameterType} ({p.Name})"))
            .ToArray();
        return (Exception)create.Invoke(target, arguments)!;
    }

    [Fact]
    public void A_siblings_address_is_read_back_whether_ipv4_or_ipv6()
    {
        var v4 = SiloAddress.New(IPAddress.Parse("10.1.2.3"), 11112, 123456789);
        var v6 = SiloAddress.New(IPAddress.IPv6Loopback, 11113, 7);

        Assert.Equal(v4, SiloStopping.ShuttingDownSibling(ShuttingDown(v4), Here));
        Assert.Equal(v6, SiloStopping.ShuttingDownSibling(ShuttingDown(v6), Here));
    }

    [Fact]
    public void This_silos_own_refusal_and_other_failures_name_no_sibling()
    {
        var rejection = (OrleansMessageRejectionException)Activator.CreateInstance(typeof(OrleansMessageRejectionException),
            BindingFlags.Instance | BindingFlags.NonPublic, null, [$"Silo '{Here}' is shutting down."], null)!;

        Assert.Null(SiloStopping.ShuttingDownSibling(ShuttingDown(Here), Here));
        Assert.Null(SiloStopping.ShuttingDownSibling(new SiloUnavailableException("The target silo became unavailable for message: GetView (test)"), Here));
        Assert.Null(SiloStopping.ShuttingDownSibling(new SiloUnavailableException("Silo is shutting down (test)"), Here));
        Assert.Null(SiloStopping.ShuttingDownSibling(rejection, Here));
    }
}
