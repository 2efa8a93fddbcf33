using System.Net;
using MasOrleans.Grains.Scheduling;
using Orleans.Runtime;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// The pod directory partition's rules, which are Orleans' own for its directory (one live activation per grain; a
/// registration may replace the entry it names as previous, or one on a dead silo; an unregistration removes only its
/// own activation), derived by hand on addresses made up here.
/// </summary>
public sealed class PodActivationPartitionTests
{
    private static readonly SiloAddress SiloA = SiloAddress.New(IPAddress.Loopback, 11111, 1);
    private static readonly SiloAddress SiloB = SiloAddress.New(IPAddress.Loopback, 11112, 1);
    private static readonly GrainId Pod = GrainId.Create("mas-pod", "p1");

    private static GrainAddress ActivationOn(SiloAddress silo, GrainId? pod = null) =>
        new() { GrainId = pod ?? Pod, ActivationId = ActivationId.NewId(), SiloAddress = silo };

    private static PodActivationPartition Partition(params SiloAddress[] dead) => new(address => !dead.Contains(address.SiloAddress!));

    [Fact]
    public void The_first_live_activation_registered_wins_and_is_what_a_lookup_finds()
    {
        var partition = Partition();
        var first = ActivationOn(SiloA);
        var second = ActivationOn(SiloB);
        Assert.True(partition.TryRegister(first, null, out var won));
        Assert.Equal(first, won);
        Assert.True(partition.TryRegister(second, null, out won));
        Assert.Equal(first, won);
        Assert.True(partition.TryLookup(Pod, out var found));
        Assert.Equal(first, found);
        // Registering the same activation again is not a conflict.
        Assert.True(partition.TryRegister(first, null, out won));
        Assert.Equal(first, won);
    }

    [Fact]
    public void A_registration_replaces_the_entry_it_names_as_previous_or_one_on_a_dead_silo()
    {
        var partition = Partition(dead: SiloB);
        var first = ActivationOn(SiloA);
        var replacement = ActivationOn(SiloA);
        partition.TryRegister(first, null, out _);
        Assert.True(partition.TryRegister(replacement, previous: first, out var won));
        Assert.Equal(replacement, won);

        var onDead = ActivationOn(SiloB, GrainId.Create("mas-pod", "p2"));
        var live = ActivationOn(SiloA, onDead.GrainId);
        partition.TryRegister(onDead, null, out _);
        Assert.True(partition.TryRegister(live, null, out won));
        Assert.Equal(live, won);
    }

    [Fact]
    public void A_registration_naming_another_activation_as_previous_does_not_replace_a_live_entry()
    {
        var partition = Partition();
        var registered = ActivationOn(SiloA);
        partition.TryRegister(registered, null, out _);
        Assert.True(partition.TryRegister(ActivationOn(SiloB), previous: ActivationOn(SiloA), out var won));
        Assert.Equal(registered, won);
    }

    [Fact]
    public void A_lookup_drops_an_entry_on_a_dead_silo()
    {
        var dead = new HashSet<SiloAddress>();
        var partition = new PodActivationPartition(address => !dead.Contains(address.SiloAddress!));
        partition.TryRegister(ActivationOn(SiloB), null, out _);
        dead.Add(SiloB);
        Assert.True(partition.TryLookup(Pod, out var found));
        Assert.Null(found);
        Assert.Equal(0, partition.Count);
    }

    [Fact]
    public void An_unregistration_removes_only_its_own_activation()
    {
        var partition = Partition();
        var registered = ActivationOn(SiloA);
        partition.TryRegister(registered, null, out _);
        Assert.True(partition.TryUnregister(ActivationOn(SiloA)));
        Assert.True(partition.TryLookup(Pod, out var found));
        Assert.Equal(registered, found);
        Assert.True(partition.TryUnregister(registered));
        Assert.True(partition.TryLookup(Pod, out found));
        Assert.Null(found);
    }

    [Fact]
    public void An_unregistration_without_an_activation_id_removes_the_entry_on_its_silo()
    {
        // Orleans unregisters so when a message found no activation on the silo the entry names.
        var partition = Partition();
        partition.TryRegister(ActivationOn(SiloA), null, out _);
        Assert.True(partition.TryUnregister(new GrainAddress { GrainId = Pod, SiloAddress = SiloB }));
        Assert.True(partition.TryLookup(Pod, out var found));
        Assert.NotNull(found);
        Assert.True(partition.TryUnregister(new GrainAddress { GrainId = Pod, SiloAddress = SiloA }));
        Assert.True(partition.TryLookup(Pod, out found));
        Assert.Null(found);
    }

    [Fact]
    public void A_dead_silos_entries_go_and_the_others_stay()
    {
        var partition = Partition();
        var onA = ActivationOn(SiloA);
        var onB = ActivationOn(SiloB, GrainId.Create("mas-pod", "p2"));
        partition.TryRegister(onA, null, out _);
        partition.TryRegister(onB, null, out _);
        partition.UnregisterSilos([SiloB]);
        Assert.True(partition.TryLookup(onB.GrainId, out var found));
        Assert.Null(found);
        Assert.True(partition.TryLookup(Pod, out found));
        Assert.Equal(onA, found);
    }

    [Fact]
    public void A_closed_partition_serves_nothing_and_hands_over_its_entries()
    {
        var registered = ActivationOn(SiloA);
        var partition = new PodActivationPartition(_ => true, [registered]);
        Assert.Equal([registered], partition.Close());
        Assert.False(partition.TryRegister(ActivationOn(SiloB, GrainId.Create("mas-pod", "p2")), null, out _));
        Assert.False(partition.TryLookup(Pod, out _));
        Assert.False(partition.TryUnregister(registered));
        // Closing twice (the shard's deactivation, then its migration) hands over the same entries.
        Assert.Equal([registered], partition.Close());
    }
}
