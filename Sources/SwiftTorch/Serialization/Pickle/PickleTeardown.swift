import Foundation

/// Releases pickle containers without recursion. A hostile pickle can nest lists a million
/// deep through its memo; freeing such a chain the ordinary way recurses once per level and
/// overflows the stack. Containers hand their children here instead, and the outermost
/// release on each thread frees them one at a time.
enum PickleTeardown {
    private final class Queue {
        var pending: [PickleValue] = []
        var draining = false
    }

    private static let key = "nanowm.pickle.teardown"

    private static var queue: Queue {
        let dictionary = Thread.current.threadDictionary
        if let queue = dictionary[key] as? Queue { return queue }
        let queue = Queue()
        dictionary[key] = queue
        return queue
    }

    /// Takes `values` (leaving it empty) and frees them iteratively.
    static func release(_ values: inout [PickleValue]) {
        guard !values.isEmpty else { return }
        let queue = self.queue
        queue.pending.append(contentsOf: values)
        values = []
        guard !queue.draining else { return }
        queue.draining = true
        defer { queue.draining = false }
        // Dropping a value may free nested containers, whose deinit adds their children here.
        while queue.pending.popLast() != nil {}
    }
}
