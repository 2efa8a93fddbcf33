using System.Globalization;
using MasOrleans.Silo.KubeApi;

namespace MasOrleans.Silo.Tests.Kubectl;

/// <summary>
/// KubeWriteGates, which makes a /k8s write's precondition check and its write one at a time per object. A second
/// writer waited on the object's gate without limit while the holder could be in a grain call that never answered; it
/// waits as long as a call under the cache's gate may take (KubeCache.GateCallLimit, injected short here), then is a
/// KubeGateTimeoutException, answered 503 with a Warning as the cache's own gate timeouts are (KubeCacheReadTests).
/// </summary>
public sealed class KubeWriteGatesTests
{
    // A wait wrongly held fails fast; one meant to outlive the limit is behind a writer that never lets go, so no timing decides.
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task Writes_of_two_objects_proceed_together()
    {
        var gates = new KubeWriteGates(Short);
        using var a = await gates.Hold("pods", "default/a", CancellationToken.None);
        // Held behind a, b would outlive the short limit and throw.
        using var b = await gates.Hold("pods", "default/b", CancellationToken.None);
        // One name in two resources is two objects.
        using var deployment = await gates.Hold("deployments.apps", "default/a", CancellationToken.None);
        Assert.Equal(3, gates.Count);
    }

    [Fact]
    public async Task A_second_write_of_one_object_waits_for_the_first()
    {
        var gates = new KubeWriteGates(TimeSpan.FromMinutes(5));
        var first = await gates.Hold("pods", "default/a", CancellationToken.None);
        var second = gates.Hold("pods", "default/a", CancellationToken.None);
        Assert.False(second.IsCompleted);
        first.Dispose();
        (await second).Dispose();
        Assert.Equal(0, gates.Count);
    }

    [Fact]
    public async Task The_gate_table_is_empty_after_a_cancelled_wait()
    {
        var gates = new KubeWriteGates(TimeSpan.FromMinutes(5));
        var first = await gates.Hold("pods", "default/a", CancellationToken.None);
        using var abort = new CancellationTokenSource();
        var second = gates.Hold("pods", "default/a", abort.Token);
        await abort.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);
        first.Dispose();
        Assert.Equal(0, gates.Count);
    }

    /// <summary>
    /// Under a culture whose decimal separator is a comma (de, fr and others; the build is InvariantGlobalization, so one is
    /// made), the limit is still written "0.1 s": the message is the API's, not the reader's.
    /// </summary>
    [Fact]
    public async Task A_wait_beyond_the_limit_is_a_gate_timeout()
    {
        var comma = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        comma.NumberFormat.NumberDecimalSeparator = ",";
        var before = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = comma;
        try
        {
            var gates = new KubeWriteGates(Short);
            var holder = await gates.Hold("deployments.apps", "default/web", CancellationToken.None);
            // A safety net, not the assertion: without the limit the wait is cancelled here (the wrong exception) rather than hanging.
            using var safety = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            var timedOut = await Assert.ThrowsAsync<KubeGateTimeoutException>(() => gates.Hold("deployments.apps", "default/web", safety.Token));
            Assert.Equal("an earlier write of deployments.apps \"default/web\" did not finish within 0.1 s", timedOut.Message);
            Assert.Equal(1, gates.Count);
            holder.Dispose();
            Assert.Equal(0, gates.Count);
            // The object is free again.
            using var again = await gates.Hold("deployments.apps", "default/web", CancellationToken.None);
        }
        finally
        {
            CultureInfo.CurrentCulture = before;
        }
    }
}
