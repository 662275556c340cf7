import ArgumentParser
import NanoWM

/// `nanowm compare`: metrics files side by side.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Print the metrics of several metrics files side by side, with differences to the first.",
        discussion: """
        Any JSON file with a "metrics" object of numbers compares, e.g. the PyTorch baseline's \
        published numbers written by hand as {"metrics": {"psnr": 34.05, "ssim": 0.994}}.

        Example:
          nanowm compare baseline.json runs/eval-wall/metrics.json --markdown
        """)

    @Argument(help: "Two or more metrics files; differences are against the first.") var files: [String]
    @Flag(help: "Print a Markdown table to paste.") var markdown = false

    func run() throws {
        print(try MetricsComparison(files: files).render(markdown: markdown))
    }
}
