using System.Buffers.Binary;
using System.Numerics;

namespace Deqn.Training.Logging;

/// <summary>
/// TFRecord framing as TensorBoard expects it: <c>uint64 length</c>, <c>uint32 masked CRC32C(length)</c>,
/// the payload, <c>uint32 masked CRC32C(payload)</c>, all little-endian.
/// </summary>
internal static class TfRecord
{
    public const int HeaderSize = 12;
    public const int FooterSize = 4;

    /// <summary>CRC-32C (Castagnoli) with the usual initial value and final XOR; hardware-accelerated where the CPU has it.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        foreach (byte b in data)
            crc = BitOperations.Crc32C(crc, b);
        return ~crc;
    }

    /// <summary>
    /// TFRecord stores a rotated-and-offset CRC because a CRC of data that itself contains CRCs is weak.
    /// </summary>
    public static uint Mask(uint crc) => unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);

    public static uint MaskedCrc32C(ReadOnlySpan<byte> data) => Mask(Crc32C(data));

    /// <summary>Writes one framed record in a single call so a crash never leaves half a header behind a full payload.</summary>
    public static void Write(Stream output, ReadOnlySpan<byte> payload)
    {
        var record = new byte[HeaderSize + payload.Length + FooterSize];
        var span = record.AsSpan();
        BinaryPrimitives.WriteUInt64LittleEndian(span, (ulong)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], MaskedCrc32C(span[..8]));
        payload.CopyTo(span[HeaderSize..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(HeaderSize + payload.Length)..], MaskedCrc32C(payload));
        output.Write(record);
    }
}
