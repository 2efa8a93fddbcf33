namespace MasOrleans.Grains;
