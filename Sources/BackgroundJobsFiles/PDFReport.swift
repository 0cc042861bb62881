import Foundation

/// A simple report as a PDF file of its own making: a title and lines of text on A4 pages, in the
/// standard Helvetica font (every PDF reader has it). Text outside Latin-1 is shown as `?`: the standard
/// fonts have no other glyphs.
enum PDFReport {
    static func render(title: String, lines: [String], date: Date = Date()) -> [UInt8] {
        let linesPerPage = 48
        let body = lines.isEmpty ? [""] : lines.flatMap { wrap($0, width: 95) }
        let pages = stride(from: 0, to: body.count, by: linesPerPage).map { Array(body[$0..<min($0 + linesPerPage, body.count)]) }

        var objects: [[UInt8]] = []
        // 1: catalog, 2: page tree, 3: font, then per page a page object and its content stream.
        objects.append(Array("<< /Type /Catalog /Pages 2 0 R >>".utf8))
        let kids = pages.indices.map { "\(4 + 2 * $0) 0 R" }.joined(separator: " ")
        objects.append(Array("<< /Type /Pages /Kids [\(kids)] /Count \(pages.count) >>".utf8))
        objects.append(Array("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".utf8))
        for (number, page) in pages.enumerated() {
            var content: [UInt8] = Array("BT\n/F1 18 Tf\n50 790 Td\n".utf8)
            if number == 0 {
                content += Array("(".utf8) + escaped(title) + Array(") Tj\n/F1 10 Tf\n0 -28 Td\n".utf8)
            } else {
                content += Array("/F1 10 Tf\n".utf8)
            }
            for line in page { content += Array("(".utf8) + escaped(line) + Array(") Tj\n0 -15 Td\n".utf8) }
            content += Array("ET\n".utf8)
            objects.append(Array("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents \(5 + 2 * number) 0 R >>".utf8))
            objects.append(Array("<< /Length \(content.count) >>\nstream\n".utf8) + content + Array("endstream".utf8))
        }

        var pdf: [UInt8] = Array("%PDF-1.4\n%\u{e2}\u{e3}\u{cf}\u{d3}\n".utf8)
        var offsets: [Int] = []
        for (index, object) in objects.enumerated() {
            offsets.append(pdf.count)
            pdf += Array("\(index + 1) 0 obj\n".utf8) + object + Array("\nendobj\n".utf8)
        }
        let xref = pdf.count
        pdf += Array("xref\n0 \(objects.count + 1)\n0000000000 65535 f \n".utf8)
        for offset in offsets { pdf += Array((String(repeating: "0", count: 10 - String(offset).count) + "\(offset) 00000 n \n").utf8) }
        let created = ISO8601DateFormatter().string(from: date)
        pdf += Array("trailer\n<< /Size \(objects.count + 1) /Root 1 0 R /Info << /Producer (BackgroundJobs) /CreationDate (\(created)) >> >>\nstartxref\n\(xref)\n%%EOF\n".utf8)
        return pdf
    }

    /// The text as a PDF string body in WinAnsi (Latin-1 here), with `(`, `)` and `\` escaped.
    private static func escaped(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        for scalar in text.unicodeScalars {
            let value = scalar.value < 256 && scalar.value >= 32 ? UInt8(scalar.value) : UInt8(ascii: "?")
            if value == UInt8(ascii: "(") || value == UInt8(ascii: ")") || value == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
            bytes.append(value)
        }
        return bytes
    }

    private static func wrap(_ line: String, width: Int) -> [String] {
        guard line.count > width else { return [line] }
        var result: [String] = []
        var current = ""
        for word in line.split(separator: " ", omittingEmptySubsequences: false) {
            if current.count + word.count + 1 > width, !current.isEmpty {
                result.append(current)
                current = ""
            }
            current += current.isEmpty ? String(word) : " " + word
            while current.count > width {
                result.append(String(current.prefix(width)))
                current = String(current.dropFirst(width))
            }
        }
        result.append(current)
        return result
    }
}
