using System.Text;
using MasOrleans.Abstractions.Grains;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// Silos of two versions call each other's learning grain during a rolling upgrade, and ILearningGrain.Record returned
/// Task before it returned Task&lt;string?&gt;. Orleans names a grain method on the wire by a hash of its interface, name and
/// parameter types, never its return type (dotnet/orleans src/Orleans.CodeGenerator/GeneratedCodeUtilities.cs
/// CreateHashedMethodId: XxHash32 of "{interface}.{method}({parameter types})", fully qualified, in upper-case hex), and the
/// call's type alias is that id with the interface (InvokableGenerator.GetCompoundTypeAliasComponents): both versions send
/// and accept the same call. An earlier silo's caller takes the new grain's answer as a plain completion (its
/// ResponseCompletionSource ignores the value); a new caller reads an earlier grain's answer, which has none, as null (kept).
/// </summary>
public sealed class LearningGrainWireTests
{
    [Fact]
    public void Record_keeps_the_wire_id_of_the_Task_returning_Record_earlier_silos_call()
    {
        const string signature = "global::MasOrleans.Abstractions.Grains.ILearningGrain.Record(global::MasOrleans.Abstractions.Contracts.ExperienceBatch)";
        var id = Convert.ToHexString(System.IO.Hashing.XxHash32.Hash(Encoding.UTF8.GetBytes(signature)));
        var invokables = typeof(ILearningGrain).Assembly.GetTypes().Select(t => t.Name)
            .Where(n => n.StartsWith("Invokable_ILearningGrain_GrainReference_", StringComparison.Ordinal)).ToList();
        Assert.True(invokables.Contains($"Invokable_ILearningGrain_GrainReference_{id}"), $"{id} not among {string.Join(", ", invokables)}");
    }
}
