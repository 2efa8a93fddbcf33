using System.Net;
using System.Reflection;
using MasOrleans.Grains.Nodes;
using Orleans.Runtime;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// <see cref="SiloStopping.ShuttingDownSibling"/> reads the silo out of Orleans' refusal as it stops, written as Orleans
/// 10.4.2 writes it (src/Orleans.Runtime/Placement/PlacementService.cs: <c>$"Silo '{LocalSilo}' is shutting down."</c>,
/// the address by SiloAddress.ToString); the messages here are built the same way from real addresses.
/// </summary>
public sealed class SiloShuttingDownWordsTests
{
    private static readonly SiloAddress Here = SiloAddress.New(IPAddress.Loopback, 11111, 1);

    private static SiloUnavailableException ShuttingDown(SiloAddress silo) => new($"Silo '{silo}' is shutting down.");

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
