import Foundation
import SwiftTorch

/// The Fréchet distance between two Gaussians fitted to feature sets, in float64:
/// ‖μ₁−μ₂‖² + tr Σ₁ + tr Σ₂ − 2·tr √(Σ₁Σ₂), with μ the mean and Σ the unbiased covariance
/// (NumPy's `cov`) of each set.
///
/// tr √(Σ₁Σ₂) is the sum of the principal square roots of the product's eigenvalues, which is
/// the trace of the principal matrix square root scipy's `sqrtm` returns; computing it from the
/// eigenvalues avoids scipy's Schur iteration, which is numerically fragile for the
/// rank-deficient covariances FID on a few hundred frames produces.
public enum FrechetDistance {
    /// Mean `[D]` and covariance `[D, D]` of a feature set, float64.
    public struct Statistics {
        public let mean: Tensor
        public let covariance: Tensor
        public let count: Int

        /// - Parameter what: names the features in errors ("FID features of the predictions").
        public init(_ features: Tensor, what: String, remedy: String) throws {
            guard features.shape.count == 2 else { throw EvaluationError("\(what): expected [N, D] features, got \(features.shape)") }
            count = features.shape[0]
            guard count >= 2 else {
                throw EvaluationError("\(what): a covariance needs at least 2 samples, got \(count); \(remedy)")
            }
            let x = try features.to(.float64)
            mean = try x.mean(dim: 0)
            let centred = try x - mean
            covariance = try centred.transpose(0, 1).matmul(centred) / Double(count - 1)
        }
    }

    /// tr √A from A's eigenvalues λ: Σ √λ (principal branch), with the largest |Im √λ|.
    static func traceOfSquareRoot(_ matrix: Tensor) throws -> (real: Double, imaginary: Double, finite: Bool) {
        let pairs = try matrix.eigenvalues().toArray(Double.self)
        var real = 0.0, imaginary = 0.0, finite = true
        for i in stride(from: 0, to: pairs.count, by: 2) {
            let (x, y) = (pairs[i], pairs[i + 1])
            guard x.isFinite, y.isFinite else { finite = false; continue }
            let modulus = (x * x + y * y).squareRoot()
            real += ((modulus + x) / 2).squareRoot()
            let im = ((modulus - x) / 2).squareRoot()
            imaginary = Swift.max(imaginary, im)
        }
        return (real, imaginary, finite && real.isFinite)
    }

    static func meanTerm(_ a: Statistics, _ b: Statistics) throws -> Double {
        try (a.mean - b.mean).square().sum().item(Double.self)
    }

    static func traces(_ a: Statistics, _ b: Statistics) throws -> Double {
        try trace(a.covariance) + trace(b.covariance)
    }

    static func trace(_ matrix: Tensor) throws -> Double {
        try Tensor.einsum("ii", [matrix]).item(Double.self)
    }

    /// ε·I in float64.
    static func scaledIdentity(_ size: Int, _ epsilon: Double) throws -> Tensor {
        let index = try Tensor.arange(0, .int(size), dtype: .int64)
        return try index.unsqueeze(1).eq(index.unsqueeze(0)).to(.float64) * epsilon
    }

    /// pytorch-fid's `calculate_frechet_distance`: when the square root is not finite, retry
    /// with 1e-6·I added to both covariances; an imaginary part above 1e-3 is an error; then the
    /// real part.
    public static func pytorchFID(_ a: Statistics, _ b: Statistics, what: String = "FID") throws -> Double {
        var root = try traceOfSquareRoot(a.covariance.matmul(b.covariance))
        if !root.finite {
            let offset = try scaledIdentity(a.covariance.shape[0], 1e-6)
            root = try traceOfSquareRoot((a.covariance + offset).matmul(b.covariance + offset))
        }
        guard root.finite else { throw EvaluationError("\(what): the covariances' product has no finite square root, even with 1e-6·I added (NaN/Inf features?)") }
        guard root.imaginary <= 1e-3 else {
            throw EvaluationError("\(what): the matrix square root has an imaginary component \(root.imaginary) (> 1e-3), as pytorch-fid refuses; the feature sets are too small or degenerate")
        }
        return try meanTerm(a, b) + traces(a, b) - 2 * root.real
    }

    /// Upstream's FVD (`utils/fvd.py` and its callback): the real part of the same formula,
    /// without pytorch-fid's retry or imaginary-part check.
    public static func upstreamFVD(_ a: Statistics, _ b: Statistics) throws -> Double {
        let root = try traceOfSquareRoot(a.covariance.matmul(b.covariance))
        guard root.finite else { throw EvaluationError("FVD: the covariances' product has no finite square root (NaN/Inf features?)") }
        return try meanTerm(a, b) + traces(a, b) - 2 * root.real
    }
}

/// A problem with evaluation inputs or networks, as one line.
public struct EvaluationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
