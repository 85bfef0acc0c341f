# Written by saebench report --html; rerun with: gnuplot charts.gp (in this directory)
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 1100,600 noenhanced font "sans,9"
} else {
    set terminal png size 1100,600 noenhanced
}
set datafile separator "\t"
set datafile missing "?"
set grid ytics
set key top left opaque
set bmargin 12
set style fill solid 0.85 border -1
set xtics rotate by -30 left nomirror
set format y "%.3g"
set output "throughput.png"
set title "rows/s per shape and backend (latest verdict of each) against its roofline bound"
set ylabel "rows/s (log scale)"
set logscale y
set style data histograms
set style histogram clustered gap 1
plot "throughput.dat" using 2:xtic(1) title "measured rows/s" lc rgb "#3b6ea5", "" using 3 title "roofline bound rows/s" lc rgb "#c8c8c8"
unset logscale y
set output "residency.png"
set title "residency speedup: re-upload s/rep over resident s/rep (1 = no gain)"
set ylabel "speedup (x)"
set yrange [0:*]
set style data histograms
set style histogram clustered gap 1
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dashtype 2 lc rgb "#a03030"
plot "residency.dat" using 2:xtic(1) title "speedup" lc rgb "#4a9a5a"
unset arrow 1
set yrange [*:*]
set output "phases.png"
set title "median seconds per rep of each timed phase (latest verdict of each)"
set ylabel "s/rep (log scale)"
set logscale y
set style data histograms
set style histogram clustered gap 1
plot for [i=2:5] "phases.dat" using i:xtic(1) title columnhead(i)
unset logscale y
set output
