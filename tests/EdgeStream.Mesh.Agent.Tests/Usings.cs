global using Xunit;

// Every test builds its own LAN of agent processes; two at once would only fight over two cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
