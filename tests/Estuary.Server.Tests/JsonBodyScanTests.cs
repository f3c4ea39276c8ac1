// JsonBodyScan names the first string that is not Unicode, or member given twice, by its path in the body.
using System.Text;
using Estuary.Server.Http;

namespace Estuary.Server.Tests;

public sealed class JsonBodyScanTests
{
    [Theory]
    [InlineData("{\"a\":[1,{\"b\":\"x\"},[\"y\",\"\\ud800\"]]}", "a[2][1]")]
    [InlineData("{\"a\":{\"b\":[{\"c\":1},{\"c\":\"\\udfff\"}]}}", "a.b[1].c")]
    [InlineData("{\"a\":{\"\\ud800\":1}}", "a")]
    [InlineData("{\"x\":\"\\ud83d\\ude00\",\"y\":\"\\ud83d\"}", "y")]
    [InlineData("{\"a\":[{\"k\":1,\"k\":2}]}", "a[0].k")]
    [InlineData("{\"\":\"\\ud800\"}", "\"\"")] // an empty member name (the fuzzer's seed 202: it was named '$')
    [InlineData("{\"a\":{\"\":[\"\\ud800\"]}}", "a.\"\"[0]")]
    [InlineData("{\"a\":[{\"k\":1},{\"k\":2}],\"b\":{\"a\":1}}", null)]
    [InlineData("{\"a\":\"你是谁\",\"b\":[\"\\u00e9\",\"\\ud83d\\ude00\"]}", null)]
    public void Names_the_first_bad_field_by_its_path(string json, string? expected)
    {
        Assert.Equal(expected, JsonBodyScan.Find(Encoding.UTF8.GetBytes(json), 64)?.Path);
    }

    [Fact]
    public void Invalid_utf8_bytes_are_found_too()
    {
        byte[] json = [.. "{\"a\":[\"ok\",\""u8, 0xC0, 0xAF, .. "\"]}"u8];
        var problem = JsonBodyScan.Find(json, 64);
        Assert.Equal("a[1]", problem?.Path);
        Assert.Equal("'a[1]' is not valid text: it holds invalid UTF-8 or an unpaired UTF-16 surrogate escape", problem?.Message);
    }
}
