global using Xunit;

// Each test runs three to five agent processes: one test at a time keeps a 2-core machine usable.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
