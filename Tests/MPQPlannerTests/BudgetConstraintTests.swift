import Testing
@testable import MPQPlanner

@Suite struct BudgetConstraintTests {
    @Test(arguments: [
        ("4.5bits", BudgetConstraint.Target.averageWeightBits(4.5)),
        ("4bit", .averageWeightBits(4)),
        (" 6 BPW ", .averageWeightBits(6)),
        ("2MB", .weightBytes(2_000_000)),
        ("800KB", .weightBytes(800_000)),
        ("800kb", .weightBytes(800_000)),
        ("1.5MiB", .weightBytes(1_572_864)),
        ("3KiB", .weightBytes(3072)),
        ("1GB", .weightBytes(1e9)),
        ("512B", .weightBytes(512)),
        ("3.5ms", .latencyMilliseconds(3.5)),
        ("250us", .latencyMilliseconds(0.25)),
        ("0.01s", .latencyMilliseconds(10)),
        ("60%bops", .relativeBOPs(percent: 60)),
        ("60 %BOPs", .relativeBOPs(percent: 60)),
        ("72GBOPs", .bops(72e9)),
        ("1e3bops", .bops(1000)),
        (".5bits", .averageWeightBits(0.5)),
    ])
    func validBudgets(text: String, target: BudgetConstraint.Target) throws {
        let b = try BudgetConstraint.parse(text)
        #expect(b.target == target)
        #expect(b.text == text.trimmingCharacters(in: .whitespaces))
    }

    @Test(arguments: [
        ("", "the budget is empty"),
        ("bits", "it does not start with a number"),
        ("-3bits", "budgets must be positive"),
        ("4.5", "the unit is missing"),
        ("4.5.1bits", "'4.5.1' is not a number"),
        ("60%", "unknown unit '%' (write %bops for a BOPs percentage)"),
        ("3furlongs", "unknown unit 'furlongs'"),
        ("0bits", "budgets must be above 0"),
        ("2 M B", "unknown unit 'm b'"),
    ])
    func invalidBudgets(text: String, problem: String) {
        let error = #expect(throws: BudgetParseError.self) { try BudgetConstraint.parse(text) }
        #expect(error?.problem == problem)
        #expect(error?.description.contains("valid budgets look like 4.5bits") == true)
        #expect(error?.description.hasPrefix("cannot read budget '\(text)'") == true)
    }

    @Test func kindsAndLists() throws {
        let list = try BudgetConstraint.parseList(["4.5bits,2MB", "3ms", "60%bops"])
        #expect(list.map(\.kind) == [.averageWeightBits, .weightBytes, .latency, .bops])
        #expect(BudgetConstraint(kind: .averageWeightBits, limit: 4.25).text == "4.25bits")
    }

    @Test func formatting() {
        #expect(CostKind.averageWeightBits.format(4) == "4.00 bits")
        #expect(CostKind.weightBytes.format(1_234_567) == "1.235 MB (1234567 bytes)")
        #expect(CostKind.latency.format(3.5) == "3.5 ms")
        #expect(CostKind.bops.format(7.2e10) == "72 GBOPs")
    }
}
