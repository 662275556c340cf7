/// A 3×5 bitmap font (digits, capitals and a few signs) for labelling plots without any
/// font library. Each glyph is five rows of three bits, top row first.
enum PixelFont {
    static let glyphs: [Character: [UInt8]] = [
        "0": [7, 5, 5, 5, 7], "1": [2, 6, 2, 2, 7], "2": [7, 1, 7, 4, 7], "3": [7, 1, 7, 1, 7],
        "4": [5, 5, 7, 1, 1], "5": [7, 4, 7, 1, 7], "6": [7, 4, 7, 5, 7], "7": [7, 1, 1, 2, 2],
        "8": [7, 5, 7, 5, 7], "9": [7, 5, 7, 1, 7], ".": [0, 0, 0, 0, 2], "-": [0, 0, 7, 0, 0],
        " ": [0, 0, 0, 0, 0], ":": [0, 2, 0, 2, 0], "(": [1, 2, 2, 2, 1], ")": [4, 2, 2, 2, 4],
        "/": [1, 1, 2, 4, 4], "=": [0, 7, 0, 7, 0], "+": [0, 2, 7, 2, 0], "%": [5, 1, 2, 4, 5],
        "A": [2, 5, 7, 5, 5], "B": [6, 5, 6, 5, 6], "C": [7, 4, 4, 4, 7], "D": [6, 5, 5, 5, 6],
        "E": [7, 4, 6, 4, 7], "F": [7, 4, 6, 4, 4], "G": [7, 4, 5, 5, 7], "H": [5, 5, 7, 5, 5],
        "I": [7, 2, 2, 2, 7], "J": [1, 1, 1, 5, 7], "K": [5, 5, 6, 5, 5], "L": [4, 4, 4, 4, 7],
        "M": [5, 7, 7, 5, 5], "N": [6, 5, 5, 5, 5], "O": [7, 5, 5, 5, 7], "P": [7, 5, 7, 4, 4],
        "Q": [7, 5, 5, 7, 1], "R": [7, 5, 6, 5, 5], "S": [7, 4, 7, 1, 7], "T": [7, 2, 2, 2, 2],
        "U": [5, 5, 5, 5, 7], "V": [5, 5, 5, 5, 2], "W": [5, 5, 7, 7, 5], "X": [5, 5, 2, 5, 5],
        "Y": [5, 5, 2, 2, 2], "Z": [7, 1, 2, 4, 7],
    ]

    /// Draws `text` (upper-cased) with its top-left corner at (x, y), each font pixel `scale`
    /// image pixels wide.
    static func draw(_ text: String, into image: inout RGBImage, x: Int, y: Int, scale: Int = 2,
                     color: (UInt8, UInt8, UInt8) = (30, 30, 30)) {
        var cursor = x
        for character in text.uppercased() {
            let rows = glyphs[character] ?? glyphs[" "]!
            for (row, bits) in rows.enumerated() {
                for column in 0..<3 where bits & (4 >> column) != 0 {
                    for dy in 0..<scale {
                        for dx in 0..<scale {
                            let px = cursor + column * scale + dx, py = y + row * scale + dy
                            if px >= 0, py >= 0, px < image.width, py < image.height { image[px, py] = color }
                        }
                    }
                }
            }
            cursor += 4 * scale
        }
    }

    static func width(of text: String, scale: Int = 2) -> Int { text.count * 4 * scale - scale }
}
