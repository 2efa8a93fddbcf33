Console.WriteLine("mas");
