using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using MasOrleans.Cli.Serve.Grpc;
using MasOrleans.Learning;
using MasOrleans.Scheduling;

namespace MasOrleans.Cli.Serve;

/// <summary>/Scheduler/Predict for the k8s simulator's PPO plugin.</summary>
internal sealed class SchedulerGrpcService(IVectorPolicy policy, ServeOptions options)
{
    public Task<ActionResponse> Predict(StateRequest request, ServerCallContext context)
    {
        try
        {
            // The policy checks the state (state_dim finite values): one rule for gRPC and REST.
            int action = policy.Predict([.. request.State], options.GrpcDeterministic);
            return Task.FromResult(new ActionResponse { Action = action });
        }
        catch (UserArgumentException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }
    }
}

/// <summary>
/// Binds <see cref="SchedulerGrpcService.Predict"/> at the generated contract's path with a request parser that refuses
/// bytes that are not a StateRequest as InvalidArgument. The generated binding (Scheduler.SchedulerBase) parses before the
/// service method runs, so a malformed request was Unknown ("Exception was thrown by handler.") and an Error in the log.
/// </summary>
internal sealed class SchedulerGrpcMethods : IServiceMethodProvider<SchedulerGrpcService>
{
    private static readonly Method<StateRequest, ActionResponse> Predict = new(
        MethodType.Unary, Scheduler.Descriptor.FullName, "Predict",
        Marshallers.Create(r => r.ToByteArray(), ParseStateRequest),
        Marshallers.Create(r => r.ToByteArray(), ActionResponse.Parser.ParseFrom));

    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<SchedulerGrpcService> context) =>
        context.AddUnaryMethod(Predict, [], (service, request, call) => service.Predict(request, call));

    private static StateRequest ParseStateRequest(byte[] bytes)
    {
        StateRequest request;
        try
        {
            request = StateRequest.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"The request is not a StateRequest (repeated float state = 1): {e.Message}"));
        }
        // Protobuf keeps a field it does not know aside and reads on: a client sending what this contract does not have
        // (a field 2 "deterministic" from another .proto) was answered as if it had not, as REST's unknown fields were.
        if (UnknownFieldOf(bytes) is { } field)
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"The request is not a StateRequest (repeated float state = 1): it has field {field}, which this service does not take"));
        return request;
    }

    /// <summary>The first field number other than state's, in bytes that parsed as a StateRequest.</summary>
    private static int? UnknownFieldOf(byte[] bytes)
    {
        var input = new CodedInputStream(bytes);
        for (var tag = input.ReadTag(); tag != 0; tag = input.ReadTag())
        {
            if (WireFormat.GetTagFieldNumber(tag) is var field && field != StateRequest.StateFieldNumber) return field;
            input.SkipLastField();
        }
        return null;
    }
}
