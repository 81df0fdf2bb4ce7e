# bench/chart.gp - the chart of bench/peers-run: one panel per setting, a
# pair of bars per client (wall time median, client CPU time) on a log
# scale, and the network floor of that client's way of fetching as a black
# dash over its wall bar (none where there is no delay line).
#
#   gnuplot -e "datafile='D'; outfile='O.svg'; nblocks=N; titles='A|B|...|'" bench/chart.gp
#
# D holds one gnuplot data block per setting (blocks separated by two blank
# lines), one line per client: "label" wall_s floor_s|NaN cpu_s.
# titles: the panels' titles, each followed by "|".

# title_of(i): the i-th "|"-terminated piece of titles (1-based)
piece(s, i) = (i <= 1) ? s[1:strstrt(s, "|") - 1] : piece(s[strstrt(s, "|") + 1:], i - 1)

set terminal svg size 1000, 420 * nblocks dynamic noenhanced font "sans,11" background "white"
set output outfile
set multiplot layout nblocks, 1

set logscale y
set format y "%g"
set ylabel "seconds (log scale)"
set grid ytics mytics lc rgb "#dddddd"
set xtics rotate by 25 right nomirror font ",10"
set ytics nomirror
set style fill solid 0.85 noborder
set boxwidth 0.38
set key top left horizontal font ",10"
set bmargin 9
set tmargin 3
set lmargin 20
set rmargin 2

do for [i = 1:nblocks] {
    set title piece(titles, i) font ",12"
    # room above the tallest bar for its label and the key
    stats datafile index (i - 1) using 2 nooutput
    set yrange [0.01:STATS_max * 8]
    plot datafile index (i - 1) using ($0 - 0.2):2:xtic(1) with boxes lc rgb "#4682b4" title "wall (median)", \
         '' index (i - 1) using ($0 + 0.2):4 with boxes lc rgb "#e0a030" title "client CPU (user+sys)", \
         '' index (i - 1) using ($0 - 0.2):3:(0.22) with xerrorbars pt 0 lw 3 lc rgb "black" title "network floor", \
         '' index (i - 1) using ($0 - 0.2):2:(sprintf("%.2f", $2)) with labels offset 0, 0.6 font ",9" notitle
}
unset multiplot
