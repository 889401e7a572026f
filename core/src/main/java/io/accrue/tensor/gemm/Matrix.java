package io.accrue.tensor.gemm;

import io.accrue.tensor.Tensor;

/**
 * One operand of a {@link Gemm} product as it enters it: a {@code rows × cols} matrix M over flat storage, with
 * {@code M[i][j] = data[offset + i·ld + j]}, or {@code data[offset + j·ld + i]} when {@code transposed} (the array
 * holds Mᵀ row-major, as a weight W of shape (out, in) holds the Wᵀ of a forward pass). {@code ld} is the leading
 * dimension of the stored rows; {@code ld = 0} (not transposed) repeats one row, which only the initial values of
 * {@link Gemm#multiplyByWeight(Matrix, Matrix, Matrix, Matrix)} accept (a bias).
 *
 * <p>A view: it copies nothing, and the products check its sizes. Ops make one per call, like a {@link Tensor} view.
 *
 * @param data       the flat storage
 * @param offset     where element (0, 0) is
 * @param ld         the distance between stored rows (≥ cols, or ≥ rows when transposed)
 * @param rows       rows of M as it enters the product
 * @param cols       columns of M as it enters the product
 * @param transposed whether the storage holds Mᵀ
 */
public record Matrix(float[] data, int offset, int ld, int rows, int cols, boolean transposed) {

    /** The dense row-major {@code rows × cols} matrix at {@code data[offset]}. */
    public static Matrix of(float[] data, int offset, int rows, int cols) {
        return new Matrix(data, offset, cols, rows, cols, false);
    }

    /** A tensor as its 2-D view, (rows, cols) = ({@link Tensor#rows()}, {@link Tensor#cols()}): row-major, dense. */
    public static Matrix of(Tensor t) {
        int cols = t.cols();
        return new Matrix(t.data(), t.offset(), cols, t.rows(), cols, false);
    }

    /** A tensor's storage as a dense row-major {@code rows × cols} matrix, e.g. a conv weight (Cout, Cin·KH·KW). */
    public static Matrix of(Tensor t, int rows, int cols) {
        if ((long) rows * cols != t.size()) {
            throw new IllegalArgumentException(t + " does not hold a " + rows + "×" + cols + " matrix");
        }
        return new Matrix(t.data(), t.offset(), cols, rows, cols, false);
    }

    /** The tensor {@code row} as one row repeated {@code rows} times: a bias as the initial values of a product. */
    public static Matrix repeatedRow(Tensor row, int rows) {
        return new Matrix(row.data(), row.offset(), 0, rows, row.size(), false);
    }

    /** The transpose of this matrix, on the same storage. */
    public Matrix t() {
        return new Matrix(data, offset, ld, cols, rows, !transposed);
    }

    @Override
    public String toString() {
        return "Matrix[" + rows + "×" + cols + (transposed ? " transposed" : "") + ", offset=" + offset + ", ld=" + ld
                + "]";
    }
}
