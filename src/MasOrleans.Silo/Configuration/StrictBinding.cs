using System.Collections;

namespace MasOrleans.Silo.Configuration;

/// <summary>
/// Binds a section as ConfigurationBinder does, except that an element of a list whose values do not convert is an error
/// naming its key. The binder leaves such an element out without a word: a profile with PercentageOfNodesToScore=abc
/// vanished and the silo started without it, and a score with Weight=heavy left its profile "without a score plugin".
/// </summary>
internal static class StrictBinding
{
    /// <exception cref="InvalidOperationException">The binder's own error for the first value that does not convert.</exception>
    public static T? Get<T>(IConfigurationSection section)
    {
        var value = section.Get<T>();
        CheckLists(section, value);
        return value;
    }

    private static void CheckLists(IConfigurationSection section, object? value)
    {
        if (value is null or string or IDictionary || value.GetType().IsValueType) return;
        if (value is IList list && value.GetType() is { IsGenericType: true } listType)
        {
            var children = section.GetChildren().ToList();
            // Bound one by one, an element the binder dropped throws what the binder swallowed.
            for (var i = 0; i < children.Count; i++)
                CheckLists(children[i], children.Count == list.Count ? list[i] : children[i].Get(listType.GetGenericArguments()[0]));
            return;
        }
        foreach (var property in value.GetType().GetProperties().Where(p => p.CanRead && p.GetIndexParameters().Length == 0))
            CheckLists(section.GetSection(property.Name), property.GetValue(value));
    }
}
