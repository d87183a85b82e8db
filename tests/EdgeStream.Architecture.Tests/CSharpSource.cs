namespace EdgeStream.Architecture.Tests;

/// <summary>
/// Just enough C# lexing to read declarations off source text: comments and the contents of string
/// and character literals are blanked (line breaks kept, so positions and line numbers still hold),
/// which leaves only code to match against.
/// </summary>
internal static class CSharpSource
{
    /// <summary><paramref name="text"/> with every comment and the inside of every string and char literal replaced by spaces.</summary>
    public static string CodeOnly(string text)
    {
        var c = text.ToCharArray();
        var i = 0;
        ScanCode(c, ref i, inHole: false);
        return new string(c);
    }

    /// <summary>1-based line of <paramref name="index"/> in <paramref name="text"/>.</summary>
    public static int LineOf(string text, int index)
    {
        var line = 1;
        for (var i = 0; i < index; i++)
            if (text[i] == '\n') line++;
        return line;
    }

    /// <summary>
    /// Scans code from <paramref name="i"/> to the end or, inside an interpolation hole, to the '}' that
    /// closes it (left at <paramref name="i"/>).
    /// </summary>
    private static void ScanCode(char[] c, ref int i, bool inHole)
    {
        var depth = 0;
        while (i < c.Length)
        {
            var ch = c[i];
            if (ch == '/' && At(c, i + 1) == '/')
            {
                while (i < c.Length && c[i] != '\n') Blank(c, i++);
            }
            else if (ch == '/' && At(c, i + 1) == '*')
            {
                Blank(c, i++);
                Blank(c, i++);
                while (i < c.Length && !(c[i] == '*' && At(c, i + 1) == '/')) Blank(c, i++);
                if (i < c.Length) { Blank(c, i++); Blank(c, i++); }
            }
            else if (ch == '\'')
            {
                CharLiteral(c, ref i);
            }
            else if (ch == '"' || ((ch == '$' || ch == '@') && StartsString(c, i)))
            {
                StringLiteral(c, ref i);
            }
            else
            {
                if (inHole)
                {
                    if (ch == '{') depth++;
                    else if (ch == '}' && depth-- == 0) return;
                }
                i++;
            }
        }
    }

    private static bool StartsString(char[] c, int i)
    {
        while (i < c.Length && c[i] is '$' or '@') i++;
        return At(c, i) == '"';
    }

    private static void CharLiteral(char[] c, ref int i)
    {
        i++; // opening '
        while (i < c.Length && c[i] != '\'' && c[i] != '\n')
        {
            if (c[i] == '\\' && i + 1 < c.Length) Blank(c, i++);
            Blank(c, i++);
        }
        if (i < c.Length) i++; // closing '
    }

    private static void StringLiteral(char[] c, ref int i)
    {
        var dollars = 0;
        var verbatim = false;
        for (; c[i] != '"'; i++)
        {
            if (c[i] == '$') dollars++;
            else verbatim = true;
        }
        var quotes = 0;
        while (At(c, i + quotes) == '"') quotes++;
        if (quotes >= 3 && !verbatim)
        {
            // Raw string literal: ends at the same number of quotes. Its holes hold no quote run that long.
            i += quotes;
            while (i < c.Length && !Run(c, i, '"', quotes)) Blank(c, i++);
            i = Math.Min(c.Length, i + quotes);
            return;
        }
        i++; // opening "
        while (i < c.Length)
        {
            var ch = c[i];
            if (ch == '"')
            {
                if (verbatim && At(c, i + 1) == '"') { Blank(c, i++); Blank(c, i++); continue; }
                i++;
                return;
            }
            if (ch == '\\' && !verbatim) { Blank(c, i++); if (i < c.Length) Blank(c, i++); continue; }
            if (ch == '\n' && !verbatim) return; // unterminated: stop at the line end
            if (dollars > 0 && ch == '{')
            {
                if (At(c, i + 1) == '{') { Blank(c, i++); Blank(c, i++); continue; }
                i++;
                ScanCode(c, ref i, inHole: true);
                if (i < c.Length) i++; // the hole's closing }
                continue;
            }
            if (dollars > 0 && ch == '}' && At(c, i + 1) == '}') { Blank(c, i++); Blank(c, i++); continue; }
            Blank(c, i++);
        }
    }

    private static bool Run(char[] c, int i, char ch, int count)
    {
        for (var k = 0; k < count; k++)
            if (At(c, i + k) != ch) return false;
        return true;
    }

    private static char At(char[] c, int i) => i < c.Length ? c[i] : '\0';

    private static void Blank(char[] c, int i)
    {
        if (c[i] is not ('\n' or '\r')) c[i] = ' ';
    }
}
