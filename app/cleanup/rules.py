"""Built-in line rules for the first import from an unknown site (Arabic, English, French).

Patterns are written naturally and matched, case-insensitively, against the folded form
of a line (see app.text.fold: lower case, Arabic diacritics, tatweel and letter variants
unified), so "اشترك" also matches "إشترك" and "Subscribe" matches "SUBSCRIBE". Rules are tried in
order; the first match decides, and its reason is what editors see.
"""

import re
from dataclasses import dataclass

from app.text import fold_arabic

SITE = "site boilerplate"


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str  # "boilerplate" or a metadata field: "byline", "dateline", "credit"
    reason: str
    pattern: re.Pattern


def _rule(name: str, kind: str, reason: str, *patterns: str) -> Rule:
    # Only the Arabic folding applies to patterns: case folding would turn \S into \s.
    joined = "|".join(f"(?:{fold_arabic(p)})" for p in patterns)
    return Rule(name, kind, reason, re.compile(joined, re.IGNORECASE))


AGENCIES = r"واس|رويترز|ا ف ب|أ ف ب|د ب أ|أ ش أ|قنا|وام|كونا|بنا|afp|reuters|ap|spa|dpa|associated press|upi"

# Dates as pages print them above or below the story: weekday, day, month, year, time.
WEEKDAYS = (r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|lundi|mardi|mercredi|jeudi|"
            r"vendredi|samedi|dimanche|[a-zç]+-feira|sábado|domingo|lunes|martes|miércoles|jueves|"
            r"viernes|الاحد|الاثنين|الثلاثاء|الاربعاء|الخميس|الجمعه|السبت")
MONTHS = (r"jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t|tember)?|"
          r"oct(ober)?|nov(ember)?|dec(ember)?|janvier|février|mars|avril|mai|juin|juillet|août|"
          r"septembre|octobre|novembre|décembre|janeiro|fevereiro|março|abril|maio|junho|julho|"
          r"agosto|setembro|outubro|novembro|dezembro|enero|febrero|marzo|mayo|junio|julio|"
          r"septiembre|octubre|noviembre|diciembre|يناير|فبراير|مارس|ابريل|مايو|يونيو|يوليو|"
          r"اغسطس|سبتمبر|اكتوبر|نوفمبر|ديسمبر")
TIME = r"(\s*(,|-|–|às|at|à|a las|\|)?\s*\d{1,2}[:h.]\d{2}(\s*(am|pm|[a-z]{2,4}))?)?"

RULES: tuple[Rule, ...] = (
    _rule("subscribe", "boilerplate", f"{SITE}: subscription prompt",
          r"^لم تشترك بعد", r"^(اشترك|إشترك)( الان| الآن)?$", r"^للاشتراك\b", r"^اشترك (في|ب)",
          r"^subscribe( now| today| here)?\b", r"^(not|already) (yet )?a subscriber",
          r"^abonnez-vous", r"^(s'abonner|déjà abonné)"),
    _rule("signup", "boilerplate", f"{SITE}: account sign-up call to action",
          r"^(انشئ|أنشئ|قم بانشاء|سجل) (حساب|دخولك)", r"^سجل الان", r"^تسجيل الدخول$",
          r"^(sign up|sign in|log ?in|register)( now| here| for free| to)?\b",
          r"^create (a |an |your )?(free )?account", r"^(créez|créer) (votre|un) compte",
          r"^(inscrivez-vous|connectez-vous)"),
    _rule("newsletter", "boilerplate", f"{SITE}: newsletter prompt",
          r"النشره البريديه", r"القائمه البريديه", r"\bnewsletter\b", r"lettre d'information"),
    _rule("cookies", "boilerplate", f"{SITE}: cookie notice",
          r"\bcookies?\b", r"ملفات تعريف الارتباط"),
    _rule("share", "boilerplate", f"{SITE}: share prompt",
          r"^(شارك|انشر|مشاركه)( الخبر| المقال| هذا| علي| عبر)?[^.]{0,30}$",
          r"^share (this|on|via)\b", r"^(partager|partagez)\b"),
    _rule("follow", "boilerplate", f"{SITE}: social follow prompt",
          r"^(تابعونا|تابعنا|تابع) (علي|عبر|في)\b", r"^follow us\b", r"^suivez-nous\b"),
    _rule("sms", "boilerplate", f"{SITE}: SMS or short-code line",
          r"\bsms\b", r"(ارسل|أرسل|ارسال).{0,40}(الي|إلى|للرقم|رقم)\s*\d{3,6}\b",
          r"^\d{4,6}\s*[-–—]\s*(stc|zain|mobily|زين|موبايلي|الاتصالات)$",
          r"^(الاتصالات|موبايلي|زين)\s*[,،]?\s*\d{4,6}", r"\btext \w+ to \d{3,6}\b",
          r"\benvoyez \w+ au \d{3,6}\b"),
    _rule("contact", "boilerplate", f"{SITE}: contact prompt",
          r"^(للتواصل|للاتصال|لمراسله|تواصل معنا|اتصل بنا)\b", r"^contact us\b",
          r"^for more information,? contact\b", r"^contactez-nous\b"),
    _rule("read_more", "boilerplate", f"{SITE}: read-more link",
          r"^(\.{2,}|…)?\s*(اقرا|إقرأ|اقرأ) (ايضا|المزيد|أيضا)", r"^(\.{2,}|…)\s*المزيد$",
          r"^المزيد\s*(\.{2,}|…)?$", r"^للمزيد\b", r"^(read more|related|see also)\b",
          r"^(lire aussi|lire la suite|à lire aussi)\b"),
    _rule("copyright", "boilerplate", f"{SITE}: copyright notice",
          r"^(©|\(c\)|copyright\b)", r"جميع الحقوق محفوظه", r"all rights reserved",
          r"tous droits réservés"),
    _rule("wire_end", "boilerplate", "wire end marker",
          r"^[/\-–—(\s]*(انتهى|انتهي|يتبع)[/\-–—)\s]*$", r"^[-–(\s]*(ends?|more|fin)[-–)\s]*$"),
    _rule("email_only", "boilerplate", "e-mail address only",
          r"^\S+@\S+\.[a-z]{2,}$"),
    _rule("url_only", "boilerplate", "URL only",
          r"^(https?://|www\.)\S+$"),
    _rule("separator", "boilerplate", "separator line",
          r"^[\W_]*$"),  # "*" too: a line of bidi marks alone folds to nothing
    _rule("comments", "boilerplate", f"{SITE}: comment counter or comment prompt",
          r"^(\d+\s+)?(comments?|comentários?|commentaires?|تعليقات|التعليقات)\s*[:(]?\s*\d*\s*\)?$",
          r"^(leave|post|add|write) a (comment|reply)\b",
          r"^(laisser|deixe|deja) (un|seu|su) (commentaire|comentário|comentario)",
          r"\bcomments? (are|is) (closed|moderated)\b",
          r"(comentários?|commentaires?|comments?)\b.{0,100}\b(moderador|moderator|modérateur|moderação|modération)"),
    _rule("taxonomy", "boilerplate", f"{SITE}: tags or categories",
          r"^(tags?|categor(y|ies)|categorias?|etiquetas?|mots-cl[eé]s|schlagw(o|ö)rter|"
          r"الوسوم|وسوم|الكلمات الدلاليه|كلمات دلاليه|تصنيفات|التصنيفات)\s*[:：]?$",
          r"^(tags?|categor(y|ies)|categorias?|etiquetas?)\s*[:：]\s*\S",
          r"\s[-–|]\s*(tags?|categorias?|categor(y|ies))\s*[:：]"),
    _rule("timestamp", "boilerplate", "publication date line",
          rf"^(({WEEKDAYS})[,\s]+)?\d{{1,2}}(\s+de)?\s+({MONTHS})\.?(\s+de)?,?\s+\d{{4}}{TIME}$",
          rf"^(({WEEKDAYS})[,\s]+)?({MONTHS})\.?\s+\d{{1,2}}(st|nd|rd|th)?,?\s+\d{{4}}{TIME}$",
          rf"^\d{{1,2}}[./-]\d{{1,2}}[./-]\d{{2,4}}{TIME}$"),
    _rule("credit", "credit", "metadata: agency credit",
          rf"^[(\[]?({AGENCIES})[)\]]?$"),
    _rule("agency_dateline", "dateline", "metadata: agency dateline",
          rf"^[^.!?؟]{{2,80}}\s(\(?({AGENCIES})\)?)\s*:?$"),
    _rule("byline", "byline", "metadata: byline",
          r"^(بقلم|كتب|كتبت|تقرير|حوار|اعداد)\s*[:：]?\s*\S[^.!?؟]{0,60}$",
          r"^(by|par)\s+[^\W\d_][^.!?]{1,60}$"),
)


def match(folded_line: str) -> Rule | None:
    for rule in RULES:
        if rule.pattern.search(folded_line):
            return rule
    return None
