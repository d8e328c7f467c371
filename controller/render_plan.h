#pragma once
// Plans for people and machines: terraform-style text, versioned JSON, and
// markdown for a pull-request comment. All three render the same Plan.

#include <iosfwd>
#include <string>

#include "model/plan.h"

namespace controller {

/// How much to show.
struct RenderOptions {
  /// Add each change's and operation's reason, as ninja's `-d explain` does.
  bool explain = false;
};

/// Terraform-style:
///   # room.community/riverside will be updated in-place
///   ~ room.community/riverside {
///       ~ name = "Old" -> "New"
///     }
///
///   Plan: 0 to add, 1 to change, 0 to destroy.
/// An empty plan is "No changes. The homeserver matches the desired state.".
/// Errors are listed with `!` and counted in the summary line.
std::string render_plan_text(const model::Plan& plan, const RenderOptions& options);

/// Writes render_plan_text's text to `out` as it goes, without holding it
/// whole (a cold apply at instance scale prints tens of MB).
void write_plan_text(std::ostream& out, const model::Plan& plan, const RenderOptions& options);

/// {"format_version":"1","changes":[{"address","actions","reason","before","after"}],
///  "operations":[{"index","description","depends_on","reason"}],
///  "summary":{"add","change","destroy","error"}}; keys stable; text,
/// numbers and flags as JSON values, the rest as the text the plan shows.
std::string render_plan_json(const model::Plan& plan);

/// A heading with the summary line and the text rendering in a diff block,
/// ready to paste into a review.
std::string render_plan_markdown(const model::Plan& plan, const RenderOptions& options);

/// "Plan: 1 to add, 2 to change, 0 to destroy." (plus ", N errors" when any).
std::string plan_summary(const model::Plan& plan);

}  // namespace controller
