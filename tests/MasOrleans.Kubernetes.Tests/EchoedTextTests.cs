namespace MasOrleans.Kubernetes.Tests;

public class EchoedTextTests
{
    [Fact]
    public void Text_up_to_the_bound_is_kept_whole() => Assert.Equal(new string('x', 160), EchoedText.Bounded(new string('x', 160)));

    [Fact]
    public void Longer_text_keeps_its_first_160_characters_and_says_how_long_it_was() =>
        Assert.Equal(new string('x', 160) + "... (100000 characters)", EchoedText.Bounded(new string('x', 100_000)));

    /// <summary>U+1F600 is two UTF-16 characters; a cut between them would leave half a character.</summary>
    [Fact]
    public void A_cut_does_not_split_a_surrogate_pair() =>
        Assert.Equal(new string('x', 159) + "... (162 characters)", EchoedText.Bounded(new string('x', 159) + "\U0001F600x"));
}
