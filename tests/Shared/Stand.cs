using System.Reflection;

namespace MasOrleans.Tests.Shared;

/// <summary>An object of interface T whose every call <see cref="Handle"/> answers.</summary>
public class Stand : DispatchProxy
{
    private Func<MethodInfo, object?[]?, object?> Handle { get; set; } = null!;

    public static T In<T>(Func<MethodInfo, object?[]?, object?> handle) where T : class
    {
        var proxy = Create<T, Stand>();
        ((Stand)(object)proxy).Handle = handle;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? method, object?[]? args) => Handle(method!, args);
}
