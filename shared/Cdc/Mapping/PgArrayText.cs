using System.Text;

namespace EdgeStream.Cdc.Mapping;

/// <summary>
/// Splits an array's text form (array_out): <c>{a,"b c",NULL,{1,2}}</c>; elements in double quotes
/// with backslash escapes, unquoted <c>NULL</c> is null, nested braces are sub-arrays. An optional
/// dimension decoration (<c>[0:1]={...}</c>) is skipped.
/// </summary>
public static class PgArrayText
{
    /// <summary>One element: its text (null for SQL NULL) or, for a nested array, its items.</summary>
    public readonly record struct Item(string? Text, List<Item>? Nested);

    public static List<Item> Parse(string text, char delimiter = ',')
    {
        var i = 0;
        if (text.Length > 0 && text[0] == '[')
        {
            i = text.IndexOf('=');
            if (i < 0) throw new FormatException($"malformed array literal '{text}'");
            i++;
        }
        var result = ParseLevel(text, ref i, delimiter);
        return result;
    }

    private static List<Item> ParseLevel(string s, ref int i, char delimiter)
    {
        if (i >= s.Length || s[i] != '{') throw new FormatException($"malformed array literal '{s}'");
        i++;
        var items = new List<Item>();
        if (i < s.Length && s[i] == '}') { i++; return items; }
        while (i < s.Length)
        {
            if (s[i] == '{')
            {
                items.Add(new Item(null, ParseLevel(s, ref i, delimiter)));
            }
            else if (s[i] == '"')
            {
                i++;
                var sb = new StringBuilder();
                while (i < s.Length && s[i] != '"')
                {
                    if (s[i] == '\\' && i + 1 < s.Length) i++;
                    sb.Append(s[i]);
                    i++;
                }
                i++; // closing quote
                items.Add(new Item(sb.ToString(), null));
            }
            else
            {
                var start = i;
                while (i < s.Length && s[i] != delimiter && s[i] != '}') i++;
                var raw = s[start..i].Trim();
                items.Add(new Item(raw == "NULL" ? null : raw, null));
            }
            if (i >= s.Length) break;
            if (s[i] == delimiter) { i++; continue; }
            if (s[i] == '}') { i++; return items; }
        }
        throw new FormatException($"malformed array literal '{s}'");
    }
}
