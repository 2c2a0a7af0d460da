//! The report's fixed "coverage basics" block, written from the seed page: what IT
//! liability insurance generally pays, on which basis, which costs, the main exclusions
//! and what the report is not. Every statement is hedged: cover differs by insurer.

use crate::questionnaire::GeneralExclusion;

/// The words of the coverage basics block in one language.
pub struct Basics {
    pub heading: &'static str,
    pub lead: &'static str,
    pub basis_heading: &'static str,
    /// Claims made in Japan during the policy period.
    pub basis: &'static str,
    /// The seed's four coverage items, in its full wording.
    pub items: [&'static str; 4],
    pub losses: &'static str,
    pub costs_heading: &'static str,
    pub costs_lead: &'static str,
    /// (name, what it pays).
    pub costs: [(&'static str, &'static str); 4],
    pub exclusions_heading: &'static str,
    pub exclusions_lead: &'static str,
    /// The seed's wording of every [`GeneralExclusion`], in the order of `ALL`.
    pub exclusions: &'static [&'static str; 14],
    /// Shown after an exclusion that a note of this report makes concrete.
    pub related: &'static str,
    /// Explains the marks, when a report has any.
    pub related_lead: &'static str,
    pub documents_heading: &'static str,
    /// The report does not replace the application form or the policy documents.
    pub documents: &'static str,
}

impl Basics {
    /// The seed's wording of one general exclusion.
    pub fn exclusion(&self, e: GeneralExclusion) -> &'static str {
        let i = GeneralExclusion::ALL
            .iter()
            .position(|x| *x == e)
            .unwrap_or_default();
        self.exclusions[i]
    }
}

pub(super) static JA: Basics = Basics {
    heading: "IT業務賠償責任保険の補償の基本",
    lead: "以下は一般的な内容です。補償の内容、支払限度額、支払条件は保険会社や保険商品によって大きく異なります。",
    basis_heading: "補償の対象と条件",
    basis: "業務の遂行に起因して、次のような事由により他人に対して法律上の損害賠償責任を負担することによって被る損害（賠償金の支払いや訴訟・示談に要する費用等）を補償するのが一般的です。ただし、保険期間中に、日本国内において損害賠償請求が被保険者に対してなされた場合に限られるのが一般的です。海外で請求された場合は、一般に補償の対象外です。",
    items: [
        "（a）不正アクセスまたはソフトウェア等の瑕疵によって生じたネットワーク上における情報の漏えいに起因する、第三者のプライバシーの侵害または名誉・信用のき損",
        "（b）提供したプログラム等のコンピュータウィルスの感染に起因する、第三者の情報の消失・き損",
        "（c）ネットワーク機能の停止に起因する自社業務の阻害・休止により生じた第三者の経済的損失",
        "（d）提供したコンテンツに起因する、第三者の名誉・信用のき損等",
    ],
    losses: "IT事業者が業務上被る賠償損害、利益損害、費用損害、情報メディア損害等をセットで補償する保険が一般的です。どの損害が対象となるかは、業種や保険会社によって異なります。",
    costs_heading: "賠償金以外に支払われることがある費用",
    costs_lead: "事故が発生したときには、損害賠償金のほかにも多くの費用がかかります。一部は保険で支払われる場合がありますが、対象となる費用、支払限度額、支払条件は保険会社によって異なります。",
    costs: [
        ("争訟費用", "損害賠償責任に関する訴訟や示談交渉について支払う弁護士費用・訴訟費用など。一般に、支出の前に保険会社の同意が必要です。"),
        ("復旧対策費用", "システム（プログラム等）の再作成・修理費用、原因調査費用、コールセンター委託費用、謝罪広告費用、記者会見開催費用、お詫び状送付費用など。"),
        ("データ復旧費用", "預かっていたデータ・プログラムの復旧費用。"),
        ("再発防止費用", "同様の事故の再発を防ぐための費用。"),
    ],
    exclusions_heading: "保険金をお支払いできない主な場合",
    exclusions_lead: "一般に、次の場合は補償の対象外です。引受保険会社や補償内容によって異なります。",
    exclusions: &JA_EXCLUSIONS,
    related: "ご回答に関連",
    related_lead: "「ご回答に関連」の印がある項目は、貴社のご回答から関係が考えられるもので、上の注意点で説明しています。",
    documents_heading: "本報告書の位置づけ",
    documents: "本報告書は、貴社のご回答に基づく参考情報であり、保険の引受可否、補償内容や保険料を決定するものではありません。保険会社の告知書（申込書）に代わるものではありませんので、告知書には改めて正確にご記入ください。ご契約に際しては、必ず「重要事項説明書」、「ご契約のしおり」または「保険約款」をご確認ください。詳しくは代理店にご相談ください。",
};

static JA_EXCLUSIONS: [&str; 14] = [
    "保険契約者・被保険者の故意",
    "戦争、外国の武力行使、革命、政権奪取、内乱、武装反乱等",
    "地震、噴火またはこれらによる津波",
    "核燃料物質等の放射性・爆発性その他の有害な特性の作用による事故",
    "政変・国交断絶、経済恐慌、物価騰貴、外国為替市場の混乱または通貨不安",
    "ネットワーク構成機器・設備の能力を超える利用または他の利用者による利用の優先（第三者の故意または悪意による利用であることを立証した場合を除きます）",
    "損害賠償に関する特別の約定によって加重された賠償責任",
    "業務の結果を保証することにより加重された賠償責任",
    "使用人が行った窃盗、強盗、詐欺、横領または背任行為に起因する賠償責任",
    "被保険者による犯罪行為（過失犯を除きます）に起因する賠償責任",
    "履行不能または履行遅滞に起因する賠償責任（火災、破裂、爆発、偶然な事故によるネットワーク構成機器・設備の損壊または機能停止による場合を除きます）",
    "第三者の身体の障害または財物の損壊、紛失、盗取、詐取に起因する賠償責任",
    "特許権・商標権等の知的財産権の侵害に起因する賠償責任（一部の業種では、ネットワークを通じて提供する電子データ・ソフトウェア等による著作権の侵害を除きます）",
    "通常要するテストを実施していないソフトウェア・プログラムの瑕疵によって生じた事故",
];

pub(super) static EN: Basics = Basics {
    heading: "IT liability insurance: coverage basics",
    lead: "What follows is general. Cover, limits of liability and conditions differ widely between insurers and products.",
    basis_heading: "What is covered, and on which basis",
    basis: "Policies generally pay the loss you suffer (damages, and the costs of lawsuits and settlements) from legal liability to others that arises from your work through events such as those below. They generally respond only to claims first made against you in Japan during the policy period; claims brought abroad are generally not covered.",
    items: [
        "(a) Invasion of third parties' privacy, or damage to their reputation and credit, caused by an information leak on a network through unauthorised access or defects in software",
        "(b) Loss of or damage to third parties' data caused by a computer virus in a program you supplied",
        "(c) Third parties' economic loss caused when your own operations are disrupted or stopped by a failure of network functions",
        "(d) Damage to third parties' reputation and credit caused by content you provided",
    ],
    losses: "Policies generally cover liability loss, loss of profit, costs and information-media loss as a set. Which losses are included depends on your trade and your insurer.",
    costs_heading: "Costs besides damages that may be paid",
    costs_lead: "An incident brings many costs besides damages. Some may be paid by the policy, but which costs, the limits and the conditions differ by insurer.",
    costs: [
        ("Defence costs", "Lawyers' fees and court costs for lawsuits and settlement talks about your liability. The insurer's consent is generally needed before you spend them."),
        ("Recovery costs", "Rebuilding or repairing systems and programs, investigating the cause, outsourced call centres, apology advertisements, press conferences, apology letters."),
        ("Data recovery costs", "Restoring the data and programs you held for others."),
        ("Recurrence-prevention costs", "Measures to prevent the same incident from happening again."),
    ],
    exclusions_heading: "Main exclusions",
    exclusions_lead: "The following are generally excluded; the details differ by underwriting insurer and cover.",
    exclusions: &EN_EXCLUSIONS,
    related: "See note",
    related_lead: "Items marked \u{201c}See note\u{201d} may concern your company given its answers; the note above explains how.",
    documents_heading: "What this report is",
    documents: "This report is indicative information based on your company's own answers. It does not decide whether insurance is offered, the cover or the premium, and it does not replace the insurer's application form: fill that form in accurately in its own right. Before you sign a contract, always read the statement of important matters, the policy guide or the policy wording. Your broker can help with any question.",
};

static EN_EXCLUSIONS: [&str; 14] = [
    "Intentional acts of the policyholder or the insured",
    "War, use of force by a foreign power, revolution, seizure of power, civil war, armed rebellion and the like",
    "Earthquakes, volcanic eruptions and tsunamis caused by them",
    "Radioactive, explosive or other harmful properties of nuclear material",
    "Political upheaval, severed diplomatic relations, economic crisis, price surges, foreign-exchange turmoil or currency instability",
    "Use beyond the capacity of network equipment, or priority given to other users (unless you prove a third party caused the overload deliberately or maliciously)",
    "Liability increased by special terms on damages agreed with others",
    "Liability increased by guaranteeing the results of your work",
    "Liability arising from theft, robbery, fraud, embezzlement or breach of trust by your employees",
    "Liability arising from criminal acts of the insured (other than negligent offences)",
    "Liability for non-performance or late performance (unless caused by fire, bursting, explosion or an accidental breakdown or failure of network equipment)",
    "Liability for bodily injury to third parties, or damage to, loss or theft of their tangible property",
    "Liability for infringing patents, trademarks and similar rights (for some trades, copyright infringement through electronic data or software provided over a network is covered)",
    "Incidents caused by defects in software or programs that were not given the normally required testing",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exclusion_has_its_own_text_in_both_languages() {
        for (i, e) in GeneralExclusion::ALL.iter().enumerate() {
            assert_eq!(JA.exclusion(*e), JA_EXCLUSIONS[i]);
            assert_eq!(EN.exclusion(*e), EN_EXCLUSIONS[i]);
        }
        let unique: std::collections::HashSet<_> = JA_EXCLUSIONS.iter().collect();
        assert_eq!(unique.len(), JA_EXCLUSIONS.len());
    }
}
