import Foundation
import SwiftTorch
import NanoWMCore

/// The Fréchet distance between two Gaussians fitted to feature sets, in float64:
/// ‖μ₁−μ₂‖² + tr Σ₁ + tr Σ₂ − 2·tr √(Σ₁Σ₂), with μ the mean and Σ the unbiased covariance
/// (NumPy's `cov`) of each set, as pytorch-fid's `calculate_frechet_distance` and upstream's FVD
/// define it.
///
/// tr √(Σ₁Σ₂) is computed exactly without forming Σ₁Σ₂: with Σᵢ = FᵢᵀFᵢ, Fᵢ the centred features
/// over √(nᵢ−1), the non-zero eigenvalues of Σ₁Σ₂ are the squared singular values of F₁F₂ᵀ
/// (n₁×n₂), so the trace of the principal square root is the sum of those singular values.
/// scipy's `sqrtm` reaches the same number through a Schur iteration on the D×D product (to
/// ~1e-8 relative on the test's features), which takes minutes at D = 2048 and returns
/// spurious imaginary parts for the rank-deficient covariances of FID on a few hundred
/// frames; this takes a second and is real by construction.
public enum FrechetDistance {
    /// Mean and covariance factor of a feature set, float64.
    public struct Statistics {
        public let mean: Tensor
        /// F with Σ = FᵀF: `[n, D]` centred features / √(n−1).
        public let factor: Tensor
        public let count: Int

        /// - Parameters:
        ///   - what: names the features in errors ("FID features of the predictions").
        ///   - remedy: what to pass when there are too few samples.
        public init(_ features: Tensor, what: String, remedy: String) throws {
            guard features.shape.count == 2 else { throw EvaluationError("\(what): expected [N, D] features, got \(features.shape)") }
            count = features.shape[0]
            guard count >= 2 else {
                throw EvaluationError("\(what): a covariance needs at least 2 samples, got \(count); \(remedy)")
            }
            let x = try features.to(.float64)
            guard try InputFile.nonFiniteCount(x) == 0 else { throw EvaluationError("\(what): the network returned NaN/Inf features") }
            mean = try x.mean(dim: 0)
            factor = try (x - mean) / Double(count - 1).squareRoot()
        }

        /// tr Σ
        var covarianceTrace: Double { get throws { try factor.square().sum().item(Double.self) } }

        /// The covariance itself, `[D, D]` (NumPy's `cov(rowvar=False)`).
        public func covariance() throws -> Tensor { try factor.transpose(0, 1).matmul(factor) }
    }

    /// tr √(Σ₁Σ₂) = Σ σᵢ(F₁F₂ᵀ).
    static func traceOfSquareRoot(_ a: Statistics, _ b: Statistics) throws -> Double {
        try a.factor.matmul(b.factor.transpose(0, 1)).singularValues().sum().item(Double.self)
    }

    static func distance(_ a: Statistics, _ b: Statistics, what: String) throws -> Double {
        let meanTerm = try (a.mean - b.mean).square().sum().item(Double.self)
        let value = try meanTerm + a.covarianceTrace + b.covarianceTrace - 2 * traceOfSquareRoot(a, b)
        guard value.isFinite else { throw EvaluationError("\(what): the distance is not finite") }
        return value
    }

    /// pytorch-fid's FID. Its 1e-6·I retry and imaginary-part check guard failures of scipy's
    /// iteration that the singular-value route cannot have (its square roots are real and finite).
    public static func pytorchFID(_ real: Statistics, _ fake: Statistics) throws -> Double {
        try distance(real, fake, what: "FID")
    }

    /// Upstream's FVD (`utils/fvd.py` and its callback): the real part of the same formula, with
    /// the prediction's statistics first, as it orders them.
    public static func upstreamFVD(_ prediction: Statistics, _ truth: Statistics) throws -> Double {
        try distance(prediction, truth, what: "FVD")
    }
}

/// A problem with evaluation inputs or networks, as one line.
public struct EvaluationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
