using System.Buffers.Binary;
using Google.Protobuf;
using Tensorboard;

namespace Deqn.Training.Logging;

public enum TensorBoardValueKind { Scalar, Histogram, Text }

/// <summary>One tagged value of an event: exactly one of <see cref="Scalar"/>, <see cref="Histogram"/>, <see cref="Text"/> is set, per <see cref="Kind"/>.</summary>
public sealed record TensorBoardEntry(
    long Step, string Tag, double WallTime, TensorBoardValueKind Kind,
    double? Scalar = null, HistogramProto? Histogram = null, string? Text = null);

/// <summary>One record of an event file. <see cref="Offset"/> is the byte offset of its TFRecord header.</summary>
public sealed record TensorBoardEvent(
    long Offset, double WallTime, long Step, string? FileVersion, IReadOnlyList<TensorBoardEntry> Values);

/// <summary>
/// Reads TensorBoard event files (ours and TensorFlow's scalar/histogram/text summaries), checking both CRCs of
/// every record, and parses each record with TorchSharp's generated protobuf types. Values of other plugins
/// (images, audio, ...) are skipped.
/// </summary>
/// <remarks>
/// TorchSharp has no reader, so the <see cref="TfRecord"/> framing is read here.
/// </remarks>
public static class TensorBoardEventReader
{
    private const int HeaderSize = TfRecord.HeaderSize;
    private const int FooterSize = TfRecord.FooterSize;

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
        int offset = 0;
        while (offset < bytes.Length)
        {
            var rest = bytes.AsSpan(offset);
            if (rest.Length < HeaderSize)
            {
                if (allowTruncatedTail) break;
                throw Corrupt(file, offset, $"truncated record header ({rest.Length} of {HeaderSize} bytes)");
            }
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(rest);
            if (TfRecord.MaskedCrc32C(rest[..8].ToArray()) != BinaryPrimitives.ReadUInt32LittleEndian(rest[8..]))
                throw Corrupt(file, offset, "length CRC mismatch");
            if (length > (ulong)(rest.Length - HeaderSize - FooterSize) || rest.Length < HeaderSize + FooterSize)
            {
                if (allowTruncatedTail) break;
                throw Corrupt(file, offset, $"truncated record: {length} payload bytes announced, {rest.Length - HeaderSize} present");
            }
            byte[] payload = rest.Slice(HeaderSize, (int)length).ToArray();
            if (TfRecord.MaskedCrc32C(payload) != BinaryPrimitives.ReadUInt32LittleEndian(rest[(HeaderSize + (int)length)..]))
                throw Corrupt(file, offset, "data CRC mismatch");
            Event e;
            try
            {
                e = Event.Parser.ParseFrom(payload);
            }
            catch (InvalidProtocolBufferException error)
            {
                throw new InvalidDataException($"{file}: invalid Event protobuf in record at byte offset {offset}: {error.Message}", error);
            }
            var values = e.Summary?.Value.Select(v => Entry(e, v)).OfType<TensorBoardEntry>().ToList() ?? [];
            events.Add(new TensorBoardEvent(offset, e.WallTime, e.Step, e.WhatCase == Event.WhatOneofCase.FileVersion ? e.FileVersion : null, values));
            offset += HeaderSize + (int)length + FooterSize;
        }
        return events;
    }

    private static InvalidDataException Corrupt(string file, long offset, string what) =>
        new($"{file}: {what} in record at byte offset {offset}");

    private static TensorBoardEntry? Entry(Event e, Summary.Types.Value v) => v.ValueCase switch
    {
        Summary.Types.Value.ValueOneofCase.SimpleValue =>
            new(e.Step, v.Tag, e.WallTime, TensorBoardValueKind.Scalar, Scalar: v.SimpleValue),
        Summary.Types.Value.ValueOneofCase.Histo =>
            new(e.Step, v.Tag, e.WallTime, TensorBoardValueKind.Histogram, Histogram: v.Histo),
        Summary.Types.Value.ValueOneofCase.Tensor when v.Tensor.Dtype == DataType.DtString || v.Metadata?.PluginData?.PluginName == "text" =>
            new(e.Step, v.Tag, e.WallTime, TensorBoardValueKind.Text, Text: string.Join("\n", v.Tensor.StringVal.Select(s => s.ToStringUtf8()))),
        // TF2's scalar summaries are rank-0 float/double tensors.
        Summary.Types.Value.ValueOneofCase.Tensor when v.Metadata?.PluginData?.PluginName is null or "scalars" && ScalarOf(v.Tensor) is { } number =>
            new(e.Step, v.Tag, e.WallTime, TensorBoardValueKind.Scalar, Scalar: number),
        _ => null,
    };

    private static double? ScalarOf(TensorProto t) => t switch
    {
        { FloatVal.Count: 1 } => t.FloatVal[0],
        { DoubleVal.Count: 1 } => t.DoubleVal[0],
        { Dtype: DataType.DtFloat, TensorContent.Length: 4 } => BinaryPrimitives.ReadSingleLittleEndian(t.TensorContent.Span),
        { Dtype: DataType.DtDouble, TensorContent.Length: 8 } => BinaryPrimitives.ReadDoubleLittleEndian(t.TensorContent.Span),
        _ => null,
    };
}
