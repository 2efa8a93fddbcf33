using MasOrleans.Learning.Search;

namespace MasOrleans.Learning.Tests.Search;

public class TinyCrossingTests
{
    [Theory]
    [InlineData("1e-9")]
    [InlineData("1e-4")]
    public void A_tiny_crossing_orders_ties_as_no_crossing(string cross)
    {
        var none = SearchDecisions.Of(SearchPolicies.Learned, new Dictionary<string, string>(), 5, openb: true);
        var tiny = SearchDecisions.Of(SearchPolicies.Learned, new Dictionary<string, string> { ["tie.cpu.cross"] = cross, ["tie.gpu.cross"] = cross }, 5, openb: true);
        Assert.Equal(none.Count, tiny.Count);
        Assert.Equal(0, none.Zip(tiny).Count(p => p.First != p.Second));
    }
}
