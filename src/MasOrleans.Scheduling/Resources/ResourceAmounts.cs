namespace MasOrleans.Scheduling.Resources;

/// <summary>
/// A vector's (kind, stored amount) pairs in <see cref="ResourceNames.All"/> order, zeros left out unless asked for: the
/// one walk behind <see cref="ResourceVector.Quantities"/>, <see cref="ResourceVector.ToQuantities"/> and the JSON writer.
/// A struct that is its own enumerator, so a foreach over it allocates nothing (every stored pod writes its vectors).
/// </summary>
public struct ResourceAmounts
{
    private readonly ResourceVector _vector;
    private readonly bool _includeZero;
    private int _index;

    internal ResourceAmounts(ResourceVector vector, bool includeZero)
    {
        _vector = vector;
        _includeZero = includeZero;
        _index = -1;
    }

    public readonly ResourceAmounts GetEnumerator() => this;

    public readonly (ResourceKind Kind, long Stored) Current => (ResourceNames.All[_index], _vector[ResourceNames.All[_index]]);

    public bool MoveNext()
    {
        while (++_index < ResourceNames.Count)
        {
            if (_includeZero || _vector[ResourceNames.All[_index]] != 0) return true;
        }
        return false;
    }
}
