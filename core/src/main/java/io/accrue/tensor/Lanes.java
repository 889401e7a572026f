package io.accrue.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector species of every Vector API body, chosen once (STYLE 6), and the fixed combination of lane partials.
 * Loaded only by the families' vector bodies, hence only when {@link VectorApi#AVAILABLE}.
 *
 * <p>Two widths, by what the lanes hold. Where lanes are independent outputs (the GEMM, the widest blocks of
 * attention's products, every lanewise kernel: exp, GELU, adds, AdamW, the lanewise passes of softmax rows and
 * layer-norm parameter gradients), each output is one element's operations in a fixed order, so the width changes
 * which vector computes an output, never its bits: those take {@link #WIDE}. Where lanes are partials of one sum (a
 * softmax row's denominator, layer norm's mean and variance), the number of partials fixes the sum's order: those
 * take {@link #EIGHT} on every machine.
 */
public final class Lanes {
    /**
     * The widest vectors the CPU computes on natively, 512 or 256 bits; the system property
     * {@code accrue.gemm.vectorBits} picks one (tests force both).
     */
    public static final VectorSpecies<Float> WIDE = species(Integer.getInteger("accrue.gemm.vectorBits",
            FloatVector.SPECIES_PREFERRED.vectorBitSize()));
    /** 8 floats on every machine: the lane partials of a row sum. */
    public static final VectorSpecies<Float> EIGHT = FloatVector.SPECIES_256;

    private Lanes() {
    }

    private static VectorSpecies<Float> species(int bits) {
        return bits >= 512 ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
    }

    /**
     * The fixed combination of 8 lane partials, {@code ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7))}: the order every scalar
     * oracle of a row sum uses too.
     */
    public static float combine(FloatVector v) {
        return ((v.lane(0) + v.lane(1)) + (v.lane(2) + v.lane(3))) + ((v.lane(4) + v.lane(5))
                + (v.lane(6) + v.lane(7)));
    }
}
