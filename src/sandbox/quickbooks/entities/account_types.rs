//! Account types and subtypes (Finance.xsd `AccountTypeEnum`, `AccountSubTypeEnum`), currencies.

/// Account types (exact strings) with their classification and default subtype.
pub const ACCOUNT_TYPES: &[(&str, &str, &str)] = &[
    ("Bank", "Asset", "Checking"),
    ("Accounts Receivable", "Asset", "AccountsReceivable"),
    ("Other Current Asset", "Asset", "OtherCurrentAssets"),
    ("Fixed Asset", "Asset", "OtherFixedAssets"),
    ("Other Asset", "Asset", "OtherLongTermAssets"),
    ("Accounts Payable", "Liability", "AccountsPayable"),
    ("Credit Card", "Liability", "CreditCard"),
    (
        "Other Current Liability",
        "Liability",
        "OtherCurrentLiabilities",
    ),
    (
        "Long Term Liability",
        "Liability",
        "OtherLongTermLiabilities",
    ),
    ("Equity", "Equity", "OpeningBalanceEquity"),
    ("Income", "Revenue", "SalesOfProductIncome"),
    ("Cost of Goods Sold", "Expense", "SuppliesMaterialsCogs"),
    ("Expense", "Expense", "OtherMiscellaneousServiceCost"),
    ("Other Income", "Revenue", "OtherMiscellaneousIncome"),
    ("Other Expense", "Expense", "OtherMiscellaneousExpense"),
    ("Non-Posting", "Asset", "OtherCurrentAssets"),
];

/// AccountSubType → AccountType (a practical subset of Finance.xsd `AccountSubTypeEnum`).
const SUB_TYPES: &[(&str, &[&str])] = &[
    (
        "Bank",
        &[
            "Checking",
            "Savings",
            "MoneyMarket",
            "CashOnHand",
            "RentsHeldInTrust",
            "TrustAccounts",
        ],
    ),
    ("Accounts Receivable", &["AccountsReceivable"]),
    (
        "Other Current Asset",
        &[
            "UndepositedFunds",
            "OtherCurrentAssets",
            "Inventory",
            "PrepaidExpenses",
            "AllowanceForBadDebts",
            "EmployeeCashAdvances",
            "LoansToOfficers",
            "LoansToOthers",
            "Retainage",
        ],
    ),
    (
        "Fixed Asset",
        &[
            "FurnitureAndFixtures",
            "MachineryAndEquipment",
            "Vehicles",
            "Buildings",
            "AccumulatedDepreciation",
            "LeaseholdImprovements",
            "Land",
            "OtherFixedAssets",
        ],
    ),
    (
        "Other Asset",
        &[
            "Goodwill",
            "SecurityDeposits",
            "OtherLongTermAssets",
            "Licenses",
        ],
    ),
    ("Accounts Payable", &["AccountsPayable"]),
    ("Credit Card", &["CreditCard"]),
    (
        "Other Current Liability",
        &[
            "OtherCurrentLiabilities",
            "PayrollTaxPayable",
            "PayrollClearing",
            "SalesTaxPayable",
            "GlobalTaxPayable",
            "GlobalTaxSuspense",
            "LineOfCredit",
            "LoanPayable",
            "InsurancePayable",
            "DirectDepositPayable",
            "FederalIncomeTaxPayable",
            "CurrentTaxLiability",
        ],
    ),
    (
        "Long Term Liability",
        &[
            "NotesPayable",
            "OtherLongTermLiabilities",
            "ShareholderNotesPayable",
        ],
    ),
    (
        "Equity",
        &[
            "OpeningBalanceEquity",
            "RetainedEarnings",
            "OwnersEquity",
            "PartnersEquity",
            "CommonStock",
            "PaidInCapitalOrSurplus",
            "PreferredStock",
            "TreasuryStock",
        ],
    ),
    (
        "Income",
        &[
            "SalesOfProductIncome",
            "ServiceFeeIncome",
            "DiscountsRefundsGiven",
            "NonProfitIncome",
            "OtherPrimaryIncome",
            "UnappliedCashPaymentIncome",
        ],
    ),
    (
        "Cost of Goods Sold",
        &[
            "SuppliesMaterialsCogs",
            "CostOfLaborCos",
            "EquipmentRentalCos",
            "OtherCostsOfServiceCos",
            "ShippingFreightDeliveryCos",
        ],
    ),
    (
        "Expense",
        &[
            "AdvertisingPromotional",
            "BadDebts",
            "BankCharges",
            "CharitableContributions",
            "CommissionsAndFees",
            "Entertainment",
            "EntertainmentMeals",
            "EquipmentRental",
            "FinanceCosts",
            "GlobalTaxExpense",
            "Insurance",
            "InterestPaid",
            "LegalProfessionalFees",
            "OfficeExpenses",
            "OfficeGeneralAdministrativeExpenses",
            "OtherBusinessExpenses",
            "OtherMiscellaneousServiceCost",
            "PromotionalMeals",
            "RentOrLeaseOfBuildings",
            "RepairMaintenance",
            "ShippingFreightDelivery",
            "SuppliesMaterials",
            "Travel",
            "TravelMeals",
            "Utilities",
            "Auto",
            "CostOfLabor",
            "DuesSubscriptions",
            "PayrollExpenses",
            "PayrollTaxExpenses",
            "PayrollWageExpenses",
            "TaxesPaid",
        ],
    ),
    (
        "Other Income",
        &[
            "DividendIncome",
            "InterestEarned",
            "OtherInvestmentIncome",
            "OtherMiscellaneousIncome",
            "TaxExemptInterest",
        ],
    ),
    (
        "Other Expense",
        &[
            "Depreciation",
            "ExchangeGainOrLoss",
            "OtherMiscellaneousExpense",
            "PenaltiesSettlements",
            "Amortization",
        ],
    ),
];

/// Currencies the sandbox knows.
pub const CURRENCIES: &[(&str, &str)] = &[
    ("USD", "United States Dollar"),
    ("CAD", "Canadian Dollar"),
    ("EUR", "Euro"),
    ("GBP", "British Pound Sterling"),
];

/// The account type an AccountSubType belongs to.
pub fn type_of_subtype(sub: &str) -> Option<&'static str> {
    SUB_TYPES
        .iter()
        .find(|(_, subs)| subs.contains(&sub))
        .map(|(t, _)| *t)
}
