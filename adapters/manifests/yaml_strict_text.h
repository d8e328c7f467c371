#pragma once
// Text-level facts the tree needs to reject what yaml-cpp 0.7 accepts but
// YAML 1.2 does not: where a document may start without `---`, which
// directives, tags and anchors are well formed (yaml-cpp reads them
// loosely), where a node's content is. Quoted scalars: yaml_quoted_text.h.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace adapters::manifest_yaml {

/// A problem at byte `pos` of a text.
struct TextSpot {
  std::size_t pos = 0;
  std::string message;
};

/// Why a document that starts at `pos` in `text` without `---` may not, and
/// where the problem is; nothing when it may. YAML 1.2 allows such a bare
/// document first in a stream (`first`) or after a `...` line, with only
/// comments in between; yaml-cpp starts a new document wherever the last
/// one's root ended (`a: 1` then `,`, a stray directive), reading a broken
/// text as something else.
std::optional<TextSpot> bare_document_problem(std::string_view text, std::size_t pos, bool first);

/// The first wrong directive on the directive lines right above the
/// document that starts at `pos`, or nothing: %YAML needs a version, %TAG a
/// handle and a URI prefix (yaml-cpp reads them loosely), and no other
/// directive is known. YAML 1.2 ignores other directives; a manifest has no
/// use for them and a typo should not pass unnoticed (libyaml refuses them
/// too).
std::optional<TextSpot> directive_problem(std::string_view text, std::size_t pos);

/// A directive that no document follows in `text` (its last line that is
/// not blank or a comment), which yaml-cpp takes for nothing at all, or
/// nothing. Either no document follows at all, or (the loader cuts files
/// before `---` lines) the directive follows a document without the `...`
/// line YAML 1.2 requires between them.
std::optional<TextSpot> trailing_directive(std::string_view text);

/// What is wrong with the properties (tags, anchors) of a node starting at
/// `pos`, and where: a tag with a character YAML's URI grammar does not
/// allow, an anchor name with other than letters, digits, '-' and '_' (YAML
/// 1.2 allows more, libyaml does not), or a property run into its node
/// without a space (`!<t>:`, `!t{a: 1}`), which yaml-cpp reads anyway. A
/// flow indicator ending an entry or a collection (`,`, `]`, `}`) may follow
/// a property, as YAML allows. Nothing when fine.
std::optional<TextSpot> properties_problem(std::string_view text, std::size_t pos);

/// What is wrong with the alias at `pos`, if it is one: a name with other
/// than letters, digits, '-' and '_'. Nothing when fine.
std::optional<TextSpot> alias_problem(std::string_view text, std::size_t pos);

/// Where the last line of `text` with content ends in the properties of a
/// node that hold a tag (`!!str`, `!<x> &a`), a comment after them aside, or
/// nothing.
std::optional<std::size_t> final_tag(std::string_view text);

/// Where the content of the node starting at `pos` begins: past its tags
/// and anchors and the blanks, line breaks and comments after them; `pos`
/// when it has none.
std::size_t node_content(std::string_view text, std::size_t pos);

/// Whether only blanks, a tab among them, come before `pos` on its line:
/// indentation made with a tab, which YAML never allows.
bool indented_with_tab(std::string_view text, std::size_t pos);

/// `text` quoted for a message: at most 40 bytes (then "..."), cut between
/// UTF-8 characters, line breaks and tabs escaped, other controls as '?'
/// (messages end up in JSON, which must be valid UTF-8, on one line).
std::string excerpt(std::string_view text);

}  // namespace adapters::manifest_yaml
