//! Answers as the applicant gives them (question id -> option id or `"na"`), parsed once
//! against a questionnaire into indexes, so scoring never looks up a string.

use std::collections::BTreeMap;

use thiserror::Error;

use super::model::Questionnaire;

/// The answer meaning "not applicable", accepted where a question has `allow_na`.
pub const NA: &str = "na";

/// The answer to one question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// The index of the chosen option.
    Option(usize),
    NotApplicable,
}

/// Answers indexed like the questionnaire's questions; `None` is unanswered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answers(pub Vec<Option<Choice>>);

/// Why an answer does not fit the questionnaire.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AnswerError {
    #[error("unknown question \"{0}\"")]
    UnknownQuestion(String),
    #[error("question \"{question}\" has no option \"{option}\"")]
    UnknownOption { question: String, option: String },
    #[error("question \"{0}\" cannot be answered \"not applicable\"")]
    NaNotAllowed(String),
}

impl AnswerError {
    /// The question the error is about.
    pub fn question(&self) -> &str {
        match self {
            AnswerError::UnknownQuestion(q)
            | AnswerError::NaNotAllowed(q)
            | AnswerError::UnknownOption { question: q, .. } => q,
        }
    }
}

impl Answers {
    /// No question answered.
    pub fn empty(q: &Questionnaire) -> Self {
        Answers(vec![None; q.questions.len()])
    }

    /// Checks one answer and returns its parsed form.
    pub fn parse_one(
        q: &Questionnaire,
        question: &str,
        option: &str,
    ) -> Result<(usize, Choice), AnswerError> {
        let qi = q
            .question_position(question)
            .ok_or_else(|| AnswerError::UnknownQuestion(question.to_string()))?;
        let question_def = &q.questions[qi];
        if option == NA {
            return if question_def.allow_na {
                Ok((qi, Choice::NotApplicable))
            } else {
                Err(AnswerError::NaNotAllowed(question.to_string()))
            };
        }
        let oi =
            question_def
                .option_position(option)
                .ok_or_else(|| AnswerError::UnknownOption {
                    question: question.to_string(),
                    option: option.to_string(),
                })?;
        Ok((qi, Choice::Option(oi)))
    }

    /// Parses a whole map of answers; the first bad one (in key order) is the error.
    pub fn parse(q: &Questionnaire, raw: &BTreeMap<String, String>) -> Result<Self, AnswerError> {
        let mut answers = Answers::empty(q);
        for (question, option) in raw {
            let (qi, choice) = Answers::parse_one(q, question, option)?;
            answers.0[qi] = Some(choice);
        }
        Ok(answers)
    }

    /// Back to question id -> option id, for storage and JSON.
    pub fn to_map(&self, q: &Questionnaire) -> BTreeMap<String, String> {
        self.0
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                let question = &q.questions[i];
                a.map(|a| {
                    let option = match a {
                        Choice::Option(o) => question.options[o].id.clone(),
                        Choice::NotApplicable => NA.to_string(),
                    };
                    (question.id.clone(), option)
                })
            })
            .collect()
    }

    /// The first unanswered question, in file order.
    pub fn first_unanswered<'q>(&self, q: &'q Questionnaire) -> Option<&'q str> {
        self.0
            .iter()
            .position(Option::is_none)
            .map(|i| q.questions[i].id.as_str())
    }

    /// How many questions have an answer (including "not applicable").
    pub fn answered(&self) -> usize {
        self.0.iter().filter(|a| a.is_some()).count()
    }
}
