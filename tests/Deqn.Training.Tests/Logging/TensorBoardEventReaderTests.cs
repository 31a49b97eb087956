using System.Buffers.Binary;
using System.Text;
using Deqn.Training.Logging;
using TorchSharp.Utils;

namespace Deqn.Training.Tests.Logging;

public sealed class TensorBoardEventReaderTests : IDisposable
{
    private readonly string _run = Path.Combine(Path.GetTempPath(), "deqn-tbr-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_run)) Directory.Delete(_run, recursive: true);
    }

    // Bit-by-bit CRC-32C (reflected polynomial 0x82F63B78): slow, but independent of TorchSharp's native one.
    private static uint ReferenceCrc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        return ~crc;
    }

    private static uint Mask(uint crc) => unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);

    private string WriteTwoRecords()
    {
        using var logger = TensorBoardLogger.ForRun(_run);
        logger.LogScalars(1, new Dictionary<string, double> { ["loss"] = 1.0 });
        return logger.FilePath;
    }

    [Theory]
    [InlineData("123456789", 0xE3069283u, 0xC78AB0E5u)]
    public void Crc32c_of_the_standard_check_string_matches_the_published_value_and_its_mask(string text, uint crc, uint masked)
    {
        // Given the ASCII check string used by every CRC catalogue
        var bytes = Encoding.ASCII.GetBytes(text);

        // When / Then: the reference, TorchSharp's CRC (which its writer uses) and the reader's masked CRC
        Assert.Equal(crc, ReferenceCrc32C(bytes));
        Assert.Equal(crc, CRC32C.process(bytes));
        Assert.Equal(masked, Mask(crc));
        Assert.Equal(masked, TfRecord.MaskedCrc32C(bytes));
    }

    [Theory]
    [InlineData((byte)0x00, 0x8A9136AAu)]
    [InlineData((byte)0xFF, 0x62A8AB43u)]
    public void Crc32c_of_32_equal_bytes_matches_the_iscsi_test_vectors(byte fill, uint expected)
    {
        // Given 32 equal bytes (RFC 3720, B.4)
        var bytes = Enumerable.Repeat(fill, 32).ToArray();

        // When / Then
        Assert.Equal(expected, ReferenceCrc32C(bytes));
        Assert.Equal(expected, CRC32C.process(bytes));
    }

    [Fact]
    public void Every_record_the_logger_writes_is_framed_with_crcs_that_an_independent_crc32c_confirms()
    {
        // Given a file with a scalar, a histogram and text
        string path;
        using (var logger = TensorBoardLogger.ForRun(_run))
        {
            path = logger.FilePath;
            logger.LogHyperparameters(new Dictionary<string, string> { ["lr"] = "0.1" });
            logger.LogScalars(3, new Dictionary<string, double> { ["loss"] = 0.5 });
            logger.LogHistogram(3, "w", [-1.0, 0.0, 2.0]);
        }
        var bytes = File.ReadAllBytes(path);

        // When the records are walked with the reference CRC alone
        int offset = 0, records = 0;
        while (offset < bytes.Length)
        {
            var rest = bytes.AsSpan(offset);
            int length = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(rest));
            // Then
            Assert.Equal(Mask(ReferenceCrc32C(rest[..8])), BinaryPrimitives.ReadUInt32LittleEndian(rest[8..]));
            Assert.Equal(Mask(ReferenceCrc32C(rest.Slice(12, length))), BinaryPrimitives.ReadUInt32LittleEndian(rest[(12 + length)..]));
            offset += 12 + length + 4;
            records++;
        }
        Assert.Equal(bytes.Length, offset);
        Assert.Equal(4, records);
        Assert.Equal(records, TensorBoardEventReader.ReadEvents(path).Count);
    }

    [Theory]
    [InlineData(0, "length CRC")]  // a byte of the first record's length
    [InlineData(5, "data CRC")]    // a payload byte of the second record (offset from its payload start)
    public void A_corrupted_byte_is_reported_with_the_offset_of_its_record(int where, string expectedMessage)
    {
        // Given a valid file of two records
        string path = WriteTwoRecords();
        var bytes = File.ReadAllBytes(path);
        long secondRecord = TensorBoardEventReader.ReadEvents(path)[1].Offset;
        long target = expectedMessage == "length CRC" ? where : secondRecord + TfRecord.HeaderSize + where;
        long expectedOffset = expectedMessage == "length CRC" ? 0 : secondRecord;

        // When one bit flips
        bytes[target] ^= 0x10;
        File.WriteAllBytes(path, bytes);

        // Then
        var error = Assert.Throws<InvalidDataException>(() => TensorBoardEventReader.Read(path));
        Assert.Contains(expectedMessage, error.Message);
        Assert.Contains($"byte offset {expectedOffset}", error.Message);
    }

    [Fact]
    public void A_truncated_last_record_is_an_error_unless_a_live_tail_is_allowed()
    {
        // Given a file cut three bytes short
        string path = WriteTwoRecords();
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^3]);

        // When / Then
        var error = Assert.Throws<InvalidDataException>(() => TensorBoardEventReader.Read(path));
        Assert.Contains("truncated", error.Message);
        Assert.Single(TensorBoardEventReader.ReadEvents(path, allowTruncatedTail: true));
    }
}
