namespace MasOrleans.Learning;
