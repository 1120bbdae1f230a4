"""Words of the segments pages (network/console/segment_pages.py), kept beside them;
`SegmentPage` is the console's page with them layered on (member_pages.staff opens it)."""

from __future__ import annotations

from typing import ClassVar

from network.console.page import ConsolePage

EN: dict[str, str] = {
    "seg_title": "Segments",
    "seg_intro": "Named sets of members that campaigns and rewards target. Static lists are "
                 "imported from a CSV file of card numbers; rule segments follow their rule "
                 "(refreshed nightly, or now from the segment's page); RFM segments are made by "
                 "the nightly scoring.",
    "seg_code": "Code",
    "seg_kind": "Kind",
    "seg_kind_static": "static list",
    "seg_kind_rule": "rule",
    "seg_kind_rfm": "RFM",
    "seg_name_en": "Name in English",
    "seg_name_fa": "Name in Persian",
    "seg_members": "Members",
    "seg_updated": "Updated",
    "seg_none": "No segments yet.",
    "seg_new": "New segment",
    "seg_rule": "Rule (JSON)",
    "seg_rule_help": "Only for a rule segment: the JSON of a rule file, as for",
    "seg_rule_conditions": "Conditions (README, Segments):",
    "seg_rule_example": "For example:",
    "seg_create": "Create",
    "seg_refused": "Nothing was saved:",
    "seg_definition": "Definition",
    "seg_static_help": "A static list: exactly the members of the last imported file.",
    "seg_rfm_help": "Made by the nightly RFM scoring; it cannot be edited.",
    "seg_some_members": "Some members (cards by their last four digits)",
    "seg_more": "… and {n} more",
    "seg_import": "Import a list",
    "seg_import_help": "A CSV file of card numbers, one a line (first column; a card_number "
                       "header is allowed). It replaces the list. Any bad line refuses the "
                       "whole file and each is named by its number.",
    "seg_file": "CSV file",
    "seg_import_button": "Import",
    "seg_refresh": "Refresh now",
    "seg_refresh_help": "Re-evaluate the rule over every member now.",
    "seg_done_created": "The segment is created.",
    "seg_done_imported": "The list is imported.",
    "seg_done_refreshed": "The segment is refreshed.",
    "seg_line": "line {line}",
    "seg_back": "All segments",
    "bo_error_SEGMENT_CODE_INVALID": "A code is 1 to 64 lower-case letters, digits, '-', '_' or "
                                     "'.', starting with a letter or digit.",
    "bo_error_SEGMENT_NAME_INVALID": "Give the name in English and in Persian (1 to 200 "
                                     "characters).",
    "bo_error_SEGMENT_EXISTS": "A segment with this code exists already.",
    "bo_error_SEGMENT_KIND_RESERVED": "Codes starting with 'rfm-' belong to the RFM segments.",
    "bo_error_SEGMENT_NOT_STATIC": "Only a static segment takes an imported list.",
    "bo_error_RULE_INVALID": "The rule is not a valid rule (JSON with a non-empty \"all\" list).",
    "bo_error_RULE_UNKNOWN_CONDITION": "The rule names a condition there is no such thing as.",
    "bo_error_RULE_UNKNOWN_TIER": "The rule names a tier there is no such thing as.",
    "bo_error_RULE_UNKNOWN_PARTNER": "The rule names a partner code there is no such thing as.",
    "bo_error_RULE_BAD_WINDOW": "A window is a whole number of days, 1 to 3660.",
    "bo_error_RULE_BAD_THRESHOLD": "A bound is a whole number of at least 0, and at_least "
                                   "below below.",
    "bo_error_CSV_EMPTY": "The file lists no card a member holds; nothing was imported.",
    "bo_error_CSV_BAD_LINES": "Some lines are bad; nothing was imported.",
    "bo_error_BAD_FILE": "The file is not UTF-8 text, or is too large.",
    "bo_error_CARD_MALFORMED": "not a card number",
    "bo_error_CARD_CHECK_DIGIT": "the check digit does not match (a mistyped digit)",
    "bo_error_CARD_DUPLICATE": "this card is listed already",
    "bo_error_CARD_UNKNOWN": "no member holds this card",
}

FA: dict[str, str] = {
    "seg_title": "بخش‌ها",
    "seg_intro": "گروه‌های نام‌دار اعضا که کمپین‌ها و جایزه‌ها هدف می‌گیرند. فهرست‌های ثابت از "
                 "فایل CSV شماره‌کارت‌ها وارد می‌شوند؛ بخش‌های قاعده‌ای از قاعدهٔ خود پیروی "
                 "می‌کنند (هر شب، یا همین حالا از صفحهٔ بخش، تازه می‌شوند)؛ بخش‌های RFM را "
                 "امتیازدهی شبانه می‌سازد.",
    "seg_code": "کد",
    "seg_kind": "نوع",
    "seg_kind_static": "فهرست ثابت",
    "seg_kind_rule": "قاعده",
    "seg_kind_rfm": "RFM",
    "seg_name_en": "نام انگلیسی",
    "seg_name_fa": "نام فارسی",
    "seg_members": "اعضا",
    "seg_updated": "به‌روزرسانی",
    "seg_none": "هنوز بخشی نیست.",
    "seg_new": "بخش تازه",
    "seg_rule": "قاعده (JSON)",
    "seg_rule_help": "فقط برای بخش قاعده‌ای: JSON یک فایل قاعده، مانند",
    "seg_rule_conditions": "شرط‌ها (README، بخش Segments):",
    "seg_rule_example": "برای نمونه:",
    "seg_create": "ساختن",
    "seg_refused": "چیزی ذخیره نشد:",
    "seg_definition": "تعریف",
    "seg_static_help": "فهرست ثابت: دقیقاً اعضای آخرین فایل واردشده.",
    "seg_rfm_help": "ساختهٔ امتیازدهی شبانهٔ RFM؛ ویرایش‌شدنی نیست.",
    "seg_some_members": "چند عضو (کارت‌ها با چهار رقم آخر)",
    "seg_more": "… و {n} عضو دیگر",
    "seg_import": "وارد کردن فهرست",
    "seg_import_help": "فایل CSV شماره‌کارت‌ها، هر سطر یکی (ستون اول؛ سرستون card_number مجاز "
                       "است). جای فهرست را می‌گیرد. هر سطر نادرست کل فایل را رد می‌کند و هر کدام "
                       "با شماره‌اش گفته می‌شود.",
    "seg_file": "فایل CSV",
    "seg_import_button": "وارد کن",
    "seg_refresh": "همین حالا تازه کن",
    "seg_refresh_help": "قاعده را همین حالا روی همهٔ اعضا دوباره بسنج.",
    "seg_done_created": "بخش ساخته شد.",
    "seg_done_imported": "فهرست وارد شد.",
    "seg_done_refreshed": "بخش تازه شد.",
    "seg_line": "سطر {line}",
    "seg_back": "همهٔ بخش‌ها",
    "bo_error_SEGMENT_CODE_INVALID": "کد ۱ تا ۶۴ حرف کوچک لاتین، رقم، '-'، '_' یا '.' است و با "
                                     "حرف یا رقم آغاز می‌شود.",
    "bo_error_SEGMENT_NAME_INVALID": "نام را به انگلیسی و فارسی بدهید (۱ تا ۲۰۰ نویسه).",
    "bo_error_SEGMENT_EXISTS": "بخشی با این کد هست.",
    "bo_error_SEGMENT_KIND_RESERVED": "کدهایی که با 'rfm-' آغاز می‌شوند از آنِ بخش‌های RFM اند.",
    "bo_error_SEGMENT_NOT_STATIC": "فقط بخش ثابت فهرست واردشده می‌پذیرد.",
    "bo_error_RULE_INVALID": "قاعده درست نیست (JSON با فهرست \"all\" ناخالی).",
    "bo_error_RULE_UNKNOWN_CONDITION": "قاعده شرطی را نام می‌برد که وجود ندارد.",
    "bo_error_RULE_UNKNOWN_TIER": "قاعده سطحی را نام می‌برد که وجود ندارد.",
    "bo_error_RULE_UNKNOWN_PARTNER": "قاعده کد شریکی را نام می‌برد که وجود ندارد.",
    "bo_error_RULE_BAD_WINDOW": "بازه عددی درست از روزهاست، ۱ تا ۳۶۶۰.",
    "bo_error_RULE_BAD_THRESHOLD": "مرز عددی درست و دست‌کم ۰ است، و at_least کمتر از below.",
    "bo_error_CSV_EMPTY": "فایل هیچ کارتی از اعضا ندارد؛ چیزی وارد نشد.",
    "bo_error_CSV_BAD_LINES": "چند سطر نادرست است؛ چیزی وارد نشد.",
    "bo_error_BAD_FILE": "فایل متن UTF-8 نیست یا بیش از اندازه بزرگ است.",
    "bo_error_CARD_MALFORMED": "شماره‌کارت نیست",
    "bo_error_CARD_CHECK_DIGIT": "رقم کنترل نمی‌خواند (رقمی اشتباه تایپ شده)",
    "bo_error_CARD_DUPLICATE": "این کارت پیش‌تر آمده است",
    "bo_error_CARD_UNKNOWN": "هیچ عضوی این کارت را ندارد",
}


class SegmentPage(ConsolePage):
    catalogs: ClassVar[dict[str, dict[str, str]]] = {
        "en": {**ConsolePage.catalogs["en"], **EN}, "fa": {**ConsolePage.catalogs["fa"], **FA}}

