namespace MasOrleans.Silo.KubeApi;

/// <summary>
/// A grain call made under <see cref="KubeCache"/>'s gate outlived <see cref="KubeCache.GateCallLimit"/>, or a write
/// waited as long for the write of its object before it (<see cref="KubeWriteGates"/>): an expected operational fault
/// (a slow or unreachable grain), answered on /k8s as the API server answers an unavailable backend
/// (<see cref="KubeUnavailable"/>). A <see cref="TimeoutException"/>, so a poll's retry treats it as any timeout.
/// </summary>
internal sealed class KubeGateTimeoutException(string message, Exception? inner = null) : TimeoutException(message, inner);
