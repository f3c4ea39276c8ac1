// Builds a deterministic, English-flavoured SentencePiece BPE vocabulary of any size (for benchmark checkpoints).
// Invariant: the multi-character pieces form a prefix-closed set of '▁'-words in which every piece's prefix (one character shorter)
// has a strictly higher score, so BPE reaches each piece from its own text and every text round-trips (bytes fall back).
namespace Estuary.Tokenization.Writing;

/// <summary>A synthetic SentencePiece vocabulary: special, byte, single-character and merged word pieces.</summary>
public static class SyntheticVocabulary
{
    /// <summary>Pieces before the merges: <c>&lt;unk&gt;</c>, <c>&lt;s&gt;</c>, <c>&lt;/s&gt;</c>, 256 bytes, '▁' and the 94 printable ASCII characters.</summary>
    public const int MinimumSize = 3 + 256 + 1 + 94;

    private const char SpaceSymbol = '\u2581';
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz";

    // Common English words (most frequent first); their '▁'-prefixes become the first merges.
    private const string CommonWords =
        "the of and to a in is it you that he was for on are with as I his they be at one have this from or had by not word but what " +
        "some we can out other were all there when up use your how said an each she which do their time if will way about many then them " +
        "write would like so these her long make thing see him two has look more day could go come did number sound no most people my over " +
        "know water than call first who may down side been now find any new work part take get place made live where after back little only " +
        "round man year came show every good me give our under name very through just form sentence great think say help low line differ " +
        "turn cause much mean before move right boy old too same tell does set three want air well also play small end put home read hand " +
        "port large spell add even land here must big high such follow act why ask men change went light kind off need house picture try us " +
        "again animal point mother world near build self earth father head stand own page should country found answer school grow study " +
        "still learn plant cover food sun four between state keep eye never last let thought city tree cross farm hard start might story saw " +
        "far sea draw left late run while press close night real life few north open seem together next white children begin got walk " +
        "example ease paper group always music those both mark often letter until mile river car feet care second book carry took science " +
        "eat room friend began idea fish mountain stop once base hear horse cut sure watch color face wood main enough plain girl usual young " +
        "ready above ever red list though feel talk bird soon body dog family direct leave song measure door product black short class wind " +
        "question happen complete ship area half rock order fire south problem piece told knew pass since top whole king space heard best " +
        "hour better true during hundred five remember step early hold west ground interest reach fast sing listen six table travel less " +
        "morning ten simple several toward war lay against pattern slow center love person money serve appear road map rain rule pull cold " +
        "notice voice unit power town fine certain fly fall lead cry dark machine note wait plan figure star box field rest correct able " +
        "done beauty drive stood contain front teach week final gave green quick develop ocean warm free minute strong special mind behind " +
        "clear tail produce fact street nothing course stay wheel full force blue object decide surface deep moon island foot system busy " +
        "test record boat common gold possible plane dry wonder laugh thousand ago ran check game shape hot miss brought heat snow bring yes " +
        "distant fill east paint language among happy sad cat tree ball " +
        "The A It He She We They In This But And What When There Once One If So Then You My His Her Our Their";

    /// <summary>
    /// A vocabulary of exactly <paramref name="vocabSize"/> pieces: id 0 <c>&lt;unk&gt;</c> (UNKNOWN), 1 <c>&lt;s&gt;</c> and
    /// 2 <c>&lt;/s&gt;</c> (CONTROL), 3..258 the BYTE pieces <c>&lt;0x00&gt;</c>..<c>&lt;0xFF&gt;</c>, then NORMAL pieces: '▁' and the
    /// printable ASCII characters (score 0), then merges with strictly decreasing negative scores: the '▁'-prefixes of common
    /// English words, then '▁'-words drawn best-first from a letter-bigram model of those words. Deterministic for a given size.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="vocabSize"/> is below <see cref="MinimumSize"/>.</exception>
    public static IReadOnlyList<SentencePieceEntry> Build(int vocabSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, MinimumSize);
        var pieces = new List<SentencePieceEntry>(vocabSize)
        {
            new("<unk>", 0, SentencePieceKind.Unknown),
            new("<s>", 0, SentencePieceKind.Control),
            new("</s>", 0, SentencePieceKind.Control),
        };
        for (int b = 0; b < 256; b++) pieces.Add(new($"<0x{b:X2}>", 0, SentencePieceKind.Byte));
        pieces.Add(new(SpaceSymbol.ToString(), 0, SentencePieceKind.Normal));
        for (char c = '!'; c <= '~'; c++) pieces.Add(new(c.ToString(), 0, SentencePieceKind.Normal));

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var word in Words())
        {
            if (pieces.Count == vocabSize) break;
            if (!seen.Add(word)) continue;
            pieces.Add(new(SpaceSymbol + word, -seen.Count, SentencePieceKind.Normal));
        }
        return pieces;
    }

    /// <summary>
    /// The endless sequence of words (ASCII letters, without a word-start symbol) that become merged pieces, best first: the
    /// prefixes of common English words, then words drawn best-first from a letter-bigram model of them. Words may repeat
    /// (callers skip repeats); every word comes after its prefix one letter shorter, so any leading run of the distinct words
    /// is prefix-closed. Shared by the SentencePiece and byte-level synthetic vocabularies.
    /// </summary>
    internal static IEnumerable<string> Words()
    {
        var words = CommonWords.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        foreach (var word in words)
        {
            for (int length = 1; length <= word.Length; length++) yield return word[..length];
        }
        foreach (var generated in BestFirstWords(words)) yield return generated[1..];
    }

    // Enumerates '▁'-strings over a..z in increasing cost (−log2 probability, in fixed point) under a letter-bigram model.
    // Each popped string pushes its own cheapest extension and its next-cheapest sibling, so the queue stays small and a
    // string always comes after its prefix (an extension costs strictly more).
    private static IEnumerable<string> BestFirstWords(string[] words)
    {
        var (order, cost) = BigramModel(words);
        var queue = new PriorityQueue<Candidate, (long Cost, string Text)>(Comparer<(long Cost, string Text)>.Create(
            (a, b) => a.Cost != b.Cost ? a.Cost.CompareTo(b.Cost) : string.CompareOrdinal(a.Text, b.Text)));
        void Push(string parent, long parentCost, int rank)
        {
            int context = ContextOf(parent[^1]);
            char next = order[context][rank];
            var text = parent + next;
            long total = parentCost + cost[context, next - 'a'];
            queue.Enqueue(new Candidate(text, total, parent, parentCost, rank), (total, text));
        }
        Push(SpaceSymbol.ToString(), 0, 0);
        while (queue.TryDequeue(out var c, out _))
        {
            yield return c.Text;
            Push(c.Text, c.Cost, 0);
            if (c.Rank + 1 < Alphabet.Length) Push(c.Parent, c.ParentCost, c.Rank + 1);
        }
    }

    // Context 0 is the word start ('▁'); 1..26 are the letters.
    private static int ContextOf(char c) => c == SpaceSymbol ? 0 : c - 'a' + 1;

    private static (string[] Order, long[,] Cost) BigramModel(string[] words)
    {
        var counts = new int[Alphabet.Length + 1, Alphabet.Length];
        foreach (var word in words)
        {
            int context = 0;
            foreach (char ch in word)
            {
                char c = char.ToLowerInvariant(ch);
                if (c is < 'a' or > 'z') break;
                counts[context, c - 'a']++;
                context = c - 'a' + 1;
            }
        }
        var cost = new long[Alphabet.Length + 1, Alphabet.Length];
        var order = new string[Alphabet.Length + 1];
        for (int context = 0; context <= Alphabet.Length; context++)
        {
            double total = 0;
            for (int n = 0; n < Alphabet.Length; n++) total += counts[context, n] + 0.5;
            for (int n = 0; n < Alphabet.Length; n++)
            {
                // Rounded to 1/1024 bit so the order cannot depend on the last bit of Math.Log2 on some platform;
                // at least 1 so every extension costs more than its prefix.
                cost[context, n] = Math.Max(1, (long)Math.Round(-Math.Log2((counts[context, n] + 0.5) / total) * 1024));
            }
            int c = context;
            order[context] = new string([.. Alphabet.OrderBy(ch => cost[c, ch - 'a']).ThenBy(ch => ch)]);
        }
        return (order, cost);
    }

    private sealed record Candidate(string Text, long Cost, string Parent, long ParentCost, int Rank);
}
