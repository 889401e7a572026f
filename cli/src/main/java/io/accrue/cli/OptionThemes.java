package io.accrue.cli;

import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Model.OptionSpec;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A command's {@code --help} with its options under headings by theme instead of one long list: each theme names
 * its options (by their longest name) in the order shown; options no theme names follow under "Other", hidden ones
 * are left out as picocli leaves them out.
 */
final class OptionThemes {
    private OptionThemes() {
    }

    /** Replaces {@code command}'s option list by {@code themes}: heading → option names. */
    static void install(CommandLine command, Map<String, List<String>> themes) {
        command.getHelpSectionMap().put(CommandLine.Model.UsageMessageSpec.SECTION_KEY_OPTION_LIST,
                help -> render(help, themes));
        command.getHelpSectionMap().put(CommandLine.Model.UsageMessageSpec.SECTION_KEY_OPTION_LIST_HEADING,
                help -> "");
    }

    private static String render(Help help, Map<String, List<String>> themes) {
        Map<String, List<OptionSpec>> groups = new LinkedHashMap<>();
        Set<OptionSpec> placed = new HashSet<>();
        themes.forEach((heading, names) -> {
            List<OptionSpec> options = new ArrayList<>();
            for (String name : names) {
                OptionSpec o = help.commandSpec().findOption(name);
                if (o == null) {
                    throw new IllegalStateException("--help theme '" + heading + "' names no option " + name);
                }
                options.add(o);
                placed.add(o);
            }
            groups.put(heading, options);
        });
        List<OptionSpec> other = help.commandSpec().options().stream()
                .filter(o -> !o.hidden() && !placed.contains(o)).toList();
        if (!other.isEmpty()) {
            groups.put("Other", other);
        }
        StringBuilder text = new StringBuilder();
        groups.forEach((heading, options) -> {
            Help.Layout layout = help.createDefaultLayout();
            options.forEach(o -> layout.addOption(o, help.createDefaultParamLabelRenderer()));
            text.append(System.lineSeparator()).append(heading).append(':').append(System.lineSeparator())
                    .append(layout);
        });
        return text.toString();
    }
}
