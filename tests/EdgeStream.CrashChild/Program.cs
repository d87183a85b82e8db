Console.WriteLine("crash");
