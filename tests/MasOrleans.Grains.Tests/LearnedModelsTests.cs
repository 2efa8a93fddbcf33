using MasOrleans.Grains.Learning;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A learned policy's agent (TorchSharp, a second or more to load) must be loaded before a shard's cycle decides with
/// it: the shard asks <see cref="LearnedModels.IsLoaded"/> and, when false, waits for <see cref="LearnedModels.LoadOffTurn"/>.
/// </summary>
public sealed class LearnedModelsTests
{
    [Fact]
    public async Task A_slot_alone_is_not_a_loaded_model_and_loading_off_turn_loads_the_agent()
    {
        var models = new LearnedModels(null);
        Assert.False(models.IsLoaded("ddqn"));

        // What a model sync or a status read leaves behind: the slot, whose agent would load at the first decision.
        var slot = models.Slot("ddqn");
        Assert.False(slot.IsAgentLoaded);
        Assert.False(models.IsLoaded("ddqn"));

        await models.LoadOffTurn("ddqn");
        Assert.True(slot.IsAgentLoaded);
        Assert.True(models.IsLoaded("ddqn"));
        Assert.False(models.IsLoaded("ppo"));
    }

    [Fact]
    public async Task A_missing_model_fails_the_load_loudly()
    {
        var models = new LearnedModels(Path.Combine(Path.GetTempPath(), $"no-models-{Guid.NewGuid():N}"));
        await Assert.ThrowsAnyAsync<Exception>(() => models.LoadOffTurn("ddqn"));
        Assert.False(models.IsLoaded("ddqn"));
    }
}
