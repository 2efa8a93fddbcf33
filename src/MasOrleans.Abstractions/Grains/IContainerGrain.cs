using MasOrleans.Abstractions.Contracts;

namespace MasOrleans.Abstractions.Grains;

/// <summary>One container's lifecycle, keyed "{pod}/{container}".</summary>
public interface IContainerGrain : IGrainWithStringKey
{
    Task<ContainerView> Start(string node, string? image, double? runSeconds);

    /// <summary>After a restart: the container the pod recorded as Running runs on (and exits when planned).</summary>
    Task Restore(ContainerView running);

    Task Stop();

    Task<ContainerView?> Get();
}
