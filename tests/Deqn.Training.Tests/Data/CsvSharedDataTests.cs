using Deqn.Testing;
using Deqn.Training.Data;

namespace Deqn.Training.Tests.Data;

/// <summary>The example data sets shipped next to the repository (../shared/data), when they are there.</summary>
public sealed class CsvSharedDataTests
{
    [SkippableTheory]
    [InlineData("diabetes.csv", 442, 11)]
    [InlineData("digits.csv", 1797, 65)]
    public void A_shared_example_data_set_loads_with_its_known_shape_and_numeric_cells(string file, int rows, int columns)
    {
        // Given
        string? folder = RepositoryFiles.SharedDataFolder();
        Skip.If(folder is null, "no Deqn.slnx above the test binaries, so ../shared/data cannot be located");
        string path = Path.Combine(folder!, file);
        Skip.IfNot(File.Exists(path), $"{Path.GetFullPath(path)} is not present (set DEQN_SHARED_DATA to the folder holding the shared example data to run this test)");

        // When
        var table = CsvTable.Load(path);

        // Then
        Assert.Equal(rows, table.RowCount);
        Assert.Equal(columns, table.Columns.Count);
        Assert.All(table.Columns, c => Assert.Equal(rows, table.Numeric(c).Length));
    }
}
