using Grpc.Core;
using MasOrleans.Cli.Serve.Grpc;
using MasOrleans.Learning;

namespace MasOrleans.Cli.Serve;

/// <summary>/Scheduler/Predict for the k8s simulator's PPO plugin.</summary>
internal sealed class SchedulerGrpcService(IVectorPolicy policy, ServeOptions options) : Scheduler.SchedulerBase
{
    public override Task<ActionResponse> Predict(StateRequest request, ServerCallContext context)
    {
        try
        {
            // The policy checks the state (state_dim finite values): one rule for gRPC and REST.
            int action = policy.Predict([.. request.State], options.GrpcDeterministic);
            return Task.FromResult(new ActionResponse { Action = action });
        }
        catch (ArgumentException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }
    }
}
