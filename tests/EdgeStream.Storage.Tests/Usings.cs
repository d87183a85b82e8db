global using Xunit;
global using EdgeStream.TestSupport;
