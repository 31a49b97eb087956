using System.Buffers.Binary;
using Google.Protobuf;

namespace Deqn.Training.Logging;

public enum TensorBoardValueKind { Scalar, Histogram, Text }

/// <summary>One tagged value of an event: exactly one of <see cref="Scalar"/>, <see cref="Histogram"/>, <see cref="Text"/> is set, per <see cref="Kind"/>.</summary>
public sealed record TensorBoardEntry(
    long Step, string Tag, double WallTime, TensorBoardValueKind Kind,
    double? Scalar = null, TensorBoardHistogram? Histogram = null, string? Text = null);

/// <summary>One record of an event file. <see cref="Offset"/> is the byte offset of its TFRecord header.</summary>
public sealed record TensorBoardEvent(
    long Offset, double WallTime, long Step, string? FileVersion, IReadOnlyList<TensorBoardEntry> Values);

/// <summary>
/// Reads TensorBoard event files (ours and TensorFlow's scalar/histogram/text summaries), checking both CRCs of
/// every record. Values of other plugins (images, audio, ...) are skipped.
/// </summary>
public static class TensorBoardEventReader
{
    /// <summary>All scalar, histogram and text values in file order.</summary>
    /// <exception cref="InvalidDataException">A CRC does not match, a record is cut short, or a payload is not a valid Event; the message gives the byte offset.</exception>
    public static IReadOnlyList<TensorBoardEntry> Read(string file) =>
        ReadEvents(file).SelectMany(e => e.Values).ToList();

    /// <summary>Every record with its offset, wall time, step and (for the first) file version.</summary>
    /// <param name="file">Path of an <c>events.out.tfevents.*</c> file.</param>
    /// <param name="allowTruncatedTail">
    /// Accept a last record cut short, as seen when reading a file another process is still writing; corrupted
    /// CRCs are always errors.
    /// </param>
    /// <exception cref="InvalidDataException">A CRC does not match, a record is cut short, or a payload is not a valid Event.</exception>
    public static IReadOnlyList<TensorBoardEvent> ReadEvents(string file, bool allowTruncatedTail = false)
    {
        byte[] bytes;
        // The writer may still hold the file open for writing.
        using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }
        var events = new List<TensorBoardEvent>();
        long offset = 0;
        while (offset < bytes.Length)
        {
            var rest = bytes.AsSpan((int)offset);
            if (rest.Length < TfRecord.HeaderSize)
            {
                if (allowTruncatedTail) break;
                throw Corrupt(file, offset, $"truncated record header ({rest.Length} of {TfRecord.HeaderSize} bytes)");
            }
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(rest);
            uint lengthCrc = BinaryPrimitives.ReadUInt32LittleEndian(rest[8..]);
            if (TfRecord.MaskedCrc32C(rest[..8]) != lengthCrc)
                throw Corrupt(file, offset, "length CRC mismatch");
            if (length > (ulong)(rest.Length - TfRecord.HeaderSize - TfRecord.FooterSize) || rest.Length < TfRecord.HeaderSize + TfRecord.FooterSize)
            {
                if (allowTruncatedTail) break;
                throw Corrupt(file, offset, $"truncated record: {length} payload bytes announced, {rest.Length - TfRecord.HeaderSize} present");
            }
            var payload = rest.Slice(TfRecord.HeaderSize, (int)length);
            uint dataCrc = BinaryPrimitives.ReadUInt32LittleEndian(rest[(TfRecord.HeaderSize + (int)length)..]);
            if (TfRecord.MaskedCrc32C(payload) != dataCrc)
                throw Corrupt(file, offset, "data CRC mismatch");
            try
            {
                events.Add(ParseEvent(offset, payload.ToArray()));
            }
            catch (Exception e) when (e is InvalidProtocolBufferException or InvalidDataException)
            {
                throw new InvalidDataException($"{file}: invalid Event protobuf in record at byte offset {offset}: {e.Message}", e);
            }
            offset += TfRecord.HeaderSize + (long)length + TfRecord.FooterSize;
        }
        return events;
    }

    private static InvalidDataException Corrupt(string file, long offset, string what) =>
        new($"{file}: {what} in record at byte offset {offset}");

    private static TensorBoardEvent ParseEvent(long offset, byte[] payload)
    {
        double wallTime = 0;
        long step = 0;
        string? fileVersion = null;
        var values = new List<RawValue>();
        var input = new CodedInputStream(payload);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1 when Is(tag, WireFormat.WireType.Fixed64): wallTime = input.ReadDouble(); break;
                case 2 when Is(tag, WireFormat.WireType.Varint): step = input.ReadInt64(); break;
                case 3 when Is(tag, WireFormat.WireType.LengthDelimited): fileVersion = input.ReadString(); break;
                case 5 when Is(tag, WireFormat.WireType.LengthDelimited): ParseSummary(input.ReadBytes(), values); break;
                default: input.SkipLastField(); break;
            }
        }
        var entries = new List<TensorBoardEntry>(values.Count);
        foreach (var v in values)
        {
            if (v.ToEntry(step, wallTime) is { } entry)
                entries.Add(entry);
        }
        return new TensorBoardEvent(offset, wallTime, step, fileVersion, entries);
    }

    private static void ParseSummary(ByteString summary, List<RawValue> values)
    {
        var input = summary.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == 1 && Is(tag, WireFormat.WireType.LengthDelimited))
                values.Add(ParseValue(input.ReadBytes()));
            else
                input.SkipLastField();
        }
    }

    private static RawValue ParseValue(ByteString bytes)
    {
        var value = new RawValue();
        var input = bytes.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1 when Is(tag, WireFormat.WireType.LengthDelimited): value.Tag = input.ReadString(); break;
                case 2 when Is(tag, WireFormat.WireType.Fixed32): value.SimpleValue = input.ReadFloat(); break;
                case 5 when Is(tag, WireFormat.WireType.LengthDelimited): value.Histogram = ParseHistogram(input.ReadBytes()); break;
                case 8 when Is(tag, WireFormat.WireType.LengthDelimited): value.Tensor = ParseTensor(input.ReadBytes()); break;
                case 9 when Is(tag, WireFormat.WireType.LengthDelimited): value.PluginName = ParsePluginName(input.ReadBytes()); break;
                default: input.SkipLastField(); break;
            }
        }
        return value;
    }

    private static TensorBoardHistogram ParseHistogram(ByteString bytes)
    {
        double min = 0, max = 0, num = 0, sum = 0, sumSquares = 0;
        var limits = new List<double>();
        var counts = new List<double>();
        var input = bytes.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1 when Is(tag, WireFormat.WireType.Fixed64): min = input.ReadDouble(); break;
                case 2 when Is(tag, WireFormat.WireType.Fixed64): max = input.ReadDouble(); break;
                case 3 when Is(tag, WireFormat.WireType.Fixed64): num = input.ReadDouble(); break;
                case 4 when Is(tag, WireFormat.WireType.Fixed64): sum = input.ReadDouble(); break;
                case 5 when Is(tag, WireFormat.WireType.Fixed64): sumSquares = input.ReadDouble(); break;
                case 6: ReadDoubles(input, tag, limits); break;
                case 7: ReadDoubles(input, tag, counts); break;
                default: input.SkipLastField(); break;
            }
        }
        return new TensorBoardHistogram(min, max, num, sum, sumSquares, limits, counts);
    }

    private static RawTensor ParseTensor(ByteString bytes)
    {
        var tensor = new RawTensor();
        var input = bytes.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1 when Is(tag, WireFormat.WireType.Varint): tensor.Dtype = input.ReadEnum(); break;
                case 4 when Is(tag, WireFormat.WireType.LengthDelimited): tensor.Content = input.ReadBytes().ToByteArray(); break;
                case 5: ReadFloats(input, tag, tensor.Numbers); break;
                case 6: ReadDoubles(input, tag, tensor.Numbers); break;
                case 8 when Is(tag, WireFormat.WireType.LengthDelimited): tensor.Strings.Add(input.ReadBytes().ToStringUtf8()); break;
                default: input.SkipLastField(); break;
            }
        }
        return tensor;
    }

    private static string? ParsePluginName(ByteString metadata)
    {
        var input = metadata.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == 1 && Is(tag, WireFormat.WireType.LengthDelimited))
            {
                var pluginData = input.ReadBytes().CreateCodedInput();
                uint inner;
                while ((inner = pluginData.ReadTag()) != 0)
                {
                    if (WireFormat.GetTagFieldNumber(inner) == 1 && Is(inner, WireFormat.WireType.LengthDelimited))
                        return pluginData.ReadString();
                    pluginData.SkipLastField();
                }
            }
            else
            {
                input.SkipLastField();
            }
        }
        return null;
    }

    // Repeated numeric fields may be packed (proto3 default) or one element per tag (older writers).
    private static void ReadDoubles(CodedInputStream input, uint tag, List<double> into)
    {
        if (Is(tag, WireFormat.WireType.Fixed64))
        {
            into.Add(input.ReadDouble());
            return;
        }
        if (!Is(tag, WireFormat.WireType.LengthDelimited)) { input.SkipLastField(); return; }
        var span = input.ReadBytes().Span;
        if (span.Length % sizeof(double) != 0)
            throw new InvalidDataException($"packed double field of {span.Length} bytes");
        for (int i = 0; i < span.Length; i += sizeof(double))
            into.Add(BinaryPrimitives.ReadDoubleLittleEndian(span[i..]));
    }

    private static void ReadFloats(CodedInputStream input, uint tag, List<double> into)
    {
        if (Is(tag, WireFormat.WireType.Fixed32))
        {
            into.Add(input.ReadFloat());
            return;
        }
        if (!Is(tag, WireFormat.WireType.LengthDelimited)) { input.SkipLastField(); return; }
        var span = input.ReadBytes().Span;
        if (span.Length % sizeof(float) != 0)
            throw new InvalidDataException($"packed float field of {span.Length} bytes");
        for (int i = 0; i < span.Length; i += sizeof(float))
            into.Add(BinaryPrimitives.ReadSingleLittleEndian(span[i..]));
    }

    private static bool Is(uint tag, WireFormat.WireType type) => WireFormat.GetTagWireType(tag) == type;

    private sealed class RawValue
    {
        public string Tag = "";
        public float? SimpleValue;
        public TensorBoardHistogram? Histogram;
        public RawTensor? Tensor;
        public string? PluginName;

        public TensorBoardEntry? ToEntry(long step, double wallTime)
        {
            if (SimpleValue is { } s)
                return new(step, Tag, wallTime, TensorBoardValueKind.Scalar, Scalar: s);
            if (Histogram is not null)
                return new(step, Tag, wallTime, TensorBoardValueKind.Histogram, Histogram: Histogram);
            if (Tensor is null)
                return null;
            if (Tensor.Dtype == 7 || PluginName == "text")
                return new(step, Tag, wallTime, TensorBoardValueKind.Text, Text: string.Join("\n", Tensor.Strings));
            // TF2's scalar summaries are rank-0 float/double tensors.
            if (PluginName is null or "scalars" && Tensor.ScalarNumber() is { } number)
                return new(step, Tag, wallTime, TensorBoardValueKind.Scalar, Scalar: number);
            return null;
        }
    }

    private sealed class RawTensor
    {
        private const int DtFloat = 1, DtDouble = 2;
        public int Dtype;
        public byte[]? Content;
        public List<double> Numbers { get; } = [];
        public List<string> Strings { get; } = [];

        public double? ScalarNumber()
        {
            if (Numbers.Count == 1) return Numbers[0];
            if (Content is { Length: 4 } && Dtype == DtFloat) return BinaryPrimitives.ReadSingleLittleEndian(Content);
            if (Content is { Length: 8 } && Dtype == DtDouble) return BinaryPrimitives.ReadDoubleLittleEndian(Content);
            return null;
        }
    }
}
