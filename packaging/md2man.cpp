// md2man: turns docs/language.md into the acctc.acct(5) manual page at build time, so the
// language has one text and the man page cannot drift from it. It knows exactly the Markdown
// the docs use: headings, paragraphs, "- " lists, ``` blocks, pipe tables, `code`, **bold**,
// *emphasis* and [links](file.md).
//
//   md2man INPUT.md OUTPUT NAME SECTION VERSION "one-line description"
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

// Escapes roff's specials in running text; `code` is bold, **x** bold, *x* italic.
std::string inline_text(const std::string& text) {
    std::string out;
    bool code = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '`') {
            code = !code;
            out += code ? "\\fB" : "\\fR";
        } else if (code) {
            out += c == '\\' ? "\\e" : c == '-' ? "\\-" : std::string(1, c);
        } else if (c == '*' && i + 1 < text.size() && text[i + 1] == '*') {
            const auto close = text.find("**", i + 2);
            if (close == std::string::npos) {
                out += "**";
                ++i;
                continue;
            }
            out += "\\fB" + inline_text(text.substr(i + 2, close - i - 2)) + "\\fR";
            i = close + 1;
        } else if (c == '*' && i + 1 < text.size() && text[i + 1] != ' ' &&
                   text.find('*', i + 1) != std::string::npos) {
            const auto close = text.find('*', i + 1);
            out += "\\fI" + inline_text(text.substr(i + 1, close - i - 1)) + "\\fR";
            i = close;
        } else if (c == '[' && text.find("](", i) != std::string::npos &&
                   text.find(')', text.find("](", i)) != std::string::npos) {
            // [runtime.md](runtime.md): the words stay, the link target is a file beside it.
            const auto middle = text.find("](", i);
            out += inline_text(text.substr(i + 1, middle - i - 1));
            i = text.find(')', middle);
        } else if (c == '\\') {
            out += "\\e";
        } else {
            out += c;
        }
    }
    return out + (code ? "\\fR" : "");
}

// A line starting with '.' or '\'' would be a roff request.
std::string line_safe(const std::string& text) {
    return !text.empty() && (text[0] == '.' || text[0] == '\'') ? "\\&" + text : text;
}

std::string upper(std::string text) {
    for (char& c : text) {
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
        }
    }
    return text;
}

// Headings in plain text: fonts in .SH/.SS lines render unevenly across man viewers.
std::string heading_text(std::string text) {
    std::erase(text, '`');
    return inline_text(text);
}

std::string trim(const std::string& text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos) {
        return "";
    }
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

std::vector<std::string> cells_of(const std::string& row) {
    std::vector<std::string> cells;
    std::string cell;
    bool code = false;
    for (std::size_t i = 1; i < row.size(); ++i) { // skip the leading '|'
        if (row[i] == '`') {
            code = !code;
        }
        if (row[i] == '|' && !code) {
            cells.push_back(trim(cell));
            cell.clear();
        } else {
            cell += row[i];
        }
    }
    return cells;
}

bool is_table_separator(const std::string& line) {
    return line.rfind("|-", 0) == 0 || line.rfind("| -", 0) == 0 || line.rfind("|:", 0) == 0;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 7) {
        std::cerr << "usage: md2man INPUT.md OUTPUT NAME SECTION VERSION DESCRIPTION\n";
        return 2;
    }
    std::ifstream in(argv[1]);
    if (!in) {
        std::cerr << "md2man: cannot read " << argv[1] << "\n";
        return 1;
    }
    const std::string name = argv[3];
    std::ostringstream out;
    out << ".\\\" Generated from " << argv[1] << " by md2man; edit the Markdown, not this.\n"
        << ".TH " << upper(name) << " " << argv[4] << " \"\" \"acctc " << argv[5]
        << "\" \"File Formats\"\n.SH NAME\n"
        << name << " \\- " << argv[6] << "\n.SH DESCRIPTION\n";
    std::string line;
    bool in_code = false;
    bool in_table = false;
    bool table_header = false;
    bool in_item = false;
    while (std::getline(in, line)) {
        if (line.rfind("```", 0) == 0) {
            out << (in_code ? ".fi\n.RE\n" : ".PP\n.RS 4\n.nf\n");
            in_code = !in_code;
            continue;
        }
        if (in_code) {
            std::string escaped;
            for (char c : line) {
                escaped += c == '\\' ? "\\e" : c == '-' ? "\\-" : std::string(1, c);
            }
            out << line_safe(escaped) << "\n";
            continue;
        }
        if (line.rfind("# ", 0) == 0) {
            continue; // the title: NAME says it
        }
        if (line.rfind("## ", 0) == 0) {
            out << ".SH " << upper(heading_text(line.substr(3))) << "\n";
            in_item = in_table = false;
            continue;
        }
        if (line.rfind("### ", 0) == 0) {
            out << ".SS \"" << heading_text(line.substr(4)) << "\"\n";
            in_item = in_table = false;
            continue;
        }
        if (line.rfind('|', 0) == 0) {
            if (!in_table) {
                in_table = table_header = true;
            }
            if (is_table_separator(line)) {
                continue;
            }
            // Each row becomes a tagged paragraph: the first cell the tag, the rest its text.
            const auto cells = cells_of(line);
            if (cells.empty()) {
                continue;
            }
            out << ".TP\n"
                << (table_header ? "\\fI" : "") << line_safe(inline_text(cells[0]))
                << (table_header ? "\\fR" : "") << "\n";
            std::string rest;
            for (std::size_t i = 1; i < cells.size(); ++i) {
                rest += (i == 1 ? "" : " \\(em ") + inline_text(cells[i]);
            }
            out << line_safe(table_header ? "\\fI" + rest + "\\fR" : rest) << "\n";
            table_header = false;
            continue;
        }
        in_table = false;
        if (trim(line).empty()) {
            in_item = false;
            out << ".PP\n";
            continue;
        }
        if (line.rfind("- ", 0) == 0) {
            out << ".IP \\(bu 2\n" << line_safe(inline_text(line.substr(2))) << "\n";
            in_item = true;
            continue;
        }
        // Continuation lines of a list item or a paragraph.
        out << line_safe(inline_text(in_item ? trim(line) : line)) << "\n";
    }
    std::ofstream file(argv[2], std::ios::trunc);
    file << out.str();
    if (!file.flush()) {
        std::cerr << "md2man: cannot write " << argv[2] << "\n";
        return 1;
    }
    return 0;
}
