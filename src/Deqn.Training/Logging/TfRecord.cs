using System.Buffers.Binary;
using Google.Protobuf;
using TorchSharp.Utils;

namespace Deqn.Training.Logging;

/// <summary>
/// TFRecord framing, the container of a TensorBoard event file: <c>uint64 length</c>, <c>uint32 masked CRC32C(length)</c>,
/// the payload, <c>uint32 masked CRC32C(payload)</c>, all little-endian. The CRC-32C is TorchSharp's, the one its own
/// writer uses; TorchSharp has no framing we could call on a stream we keep open, so it is done here.
/// </summary>
internal static class TfRecord
{
    public const int HeaderSize = 12;
    public const int FooterSize = 4;

    /// <summary>One whole record, so it reaches the file in a single write.</summary>
    public static byte[] Frame(IMessage message)
    {
        byte[] payload = message.ToByteArray();
        var record = new byte[HeaderSize + payload.Length + FooterSize];
        BinaryPrimitives.WriteUInt64LittleEndian(record, (ulong)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(8), MaskedCrc32C(record[..8]));
        payload.CopyTo(record, HeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(HeaderSize + payload.Length), MaskedCrc32C(payload));
        return record;
    }

    /// <summary>TFRecord stores a rotated-and-offset CRC because a CRC of data that itself contains CRCs is weak.</summary>
    public static uint MaskedCrc32C(byte[] data)
    {
        uint crc = CRC32C.process(data);
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
    }
}
