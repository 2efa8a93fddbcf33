namespace MasOrleans.Silo.Tests;

/// <summary>How the child-process tests find a record's message in the simple formatter's output, with and without scopes.</summary>
public sealed class ConsoleLogLinesTests
{
    [Fact]
    public void A_records_message_is_the_first_line_after_its_header_that_is_no_scope_line()
    {
        string[] lines =
        [
            "warn: MasOrleans.Grains.Pods.PodGrain[1502]",
            "      => GrainType:mas-pod Pod:p1 => Node:n1",
            "      Pod p1 stopped before its placement on node n1 was stored",
            "info: MasOrleans.Grains.Nodes.NodeGrain[1405]",
            "      Node n1 Registered (Normal): node registered",
        ];
        Assert.Equal(2, ConsoleLogLines.MessageOf(lines, 0));
        Assert.Equal(4, ConsoleLogLines.MessageOf(lines, 3));
    }

    /// <summary>A message that itself holds "=>" past its start is a message, not scopes.</summary>
    [Fact]
    public void A_message_with_an_arrow_inside_is_no_scope_line() =>
        Assert.False(ConsoleLogLines.IsScopes("      Pod p1 moved n1 => n2"));
}
